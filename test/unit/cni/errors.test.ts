import { TartanError } from '../../../src/errors';
import { toErrorJson, CniError, CNI_INVALID_CONFIG, CNI_TRY_AGAIN_LATER, TARTAN_CNI_IPAM, TARTAN_CNI_DATAPLANE, TARTAN_CNI_INTERNAL } from '../../../src/cni';
import { DatastoreError } from '../../../src/datastore';
import { IpamError } from '../../../src/ipam';

describe('CNI error objects', () => {
  it('a CniError keeps its code, message and details', () => {
    expect(toErrorJson(new CniError(CNI_INVALID_CONFIG, 'invalid network config: mtu: bad', 'mtu: bad'), '0.4.0')).toEqual({
      cniVersion: '0.4.0',
      code: 7,
      msg: 'invalid network config: mtu: bad',
      details: 'mtu: bad',
    });
  });

  it('other layers\' errors are mapped by their code, in one place', () => {
    expect(toErrorJson(new DatastoreError('DATASTORE_UNAVAILABLE', 'etcd away'), '1.0.0')).toEqual({ cniVersion: '1.0.0', code: CNI_TRY_AGAIN_LATER, msg: 'try again later', details: 'DATASTORE_UNAVAILABLE: etcd away' });
    expect(toErrorJson(new IpamError('IPAM_CONFLICT', 'busy'), '1.0.0').code).toBe(CNI_TRY_AGAIN_LATER);
    expect(toErrorJson(new IpamError('IPAM_EXHAUSTED', 'no pool'), '1.0.0')).toMatchObject({ code: TARTAN_CNI_IPAM, msg: 'IP address assignment failed' });
    expect(toErrorJson(new TartanError('CNI_DATAPLANE_ERROR', 'ip link add: File exists'), '1.0.0').code).toBe(TARTAN_CNI_DATAPLANE);
    expect(toErrorJson(new TartanError('SOMETHING_ELSE', 'x'), '1.0.0').code).toBe(TARTAN_CNI_INTERNAL);
    expect(toErrorJson(new Error('boom'), '1.0.0')).toEqual({ cniVersion: '1.0.0', code: 100, msg: 'internal error', details: 'boom' });
    expect(toErrorJson('weird', '1.0.0').details).toBe('weird');
  });
});
