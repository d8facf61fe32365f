import { checkImport, exportRoute, type ExportTarget, type RouteOrigin } from '../../../src/bgp/policy/rules';
import type { RouteAttributes } from '../../../src/bgp/rib/route-attributes';

const me = { routerId: '192.0.2.10', clusterId: '192.0.2.10' };
const learned: RouteAttributes = { nextHops: ['192.0.2.1'], origin: 0, asPath: [{ type: 'sequence', asns: [65001] }], med: 7, localPref: 300, communities: [65001 * 65536 + 1] };
const fromEbgp: RouteOrigin = { local: false, ibgp: false, fromRrClient: false, peerRouterId: '192.0.2.1', localAs: 64512 };
const fromIbgp: RouteOrigin = { ...fromEbgp, ibgp: true };
const fromClient: RouteOrigin = { ...fromIbgp, fromRrClient: true };
const local: RouteOrigin = { ...fromEbgp, local: true };
const ebgp: ExportTarget = { ibgp: false, rrClient: false, localAs: 64512, nextHopMode: 'auto', nextHopSelf: { ipv4: '192.0.2.10', ipv6: '2001:db8::10' } };
const ibgp: ExportTarget = { ...ebgp, ibgp: true };
const client: ExportTarget = { ...ibgp, rrClient: true };

describe('import checks', () => {
  it('rejects our own AS in the path on eBGP (RFC 4271 §9.1.2)', () => {
    expect(checkImport({ ...learned, asPath: [{ type: 'sequence', asns: [65001, 64512] }] }, fromEbgp, me)).toEqual({ accept: false, reason: 'AS_PATH contains our AS 64512' });
    expect(checkImport(learned, fromEbgp, me)).toEqual({ accept: true });
  });
  it('rejects reflection loops (RFC 4456 §8)', () => {
    expect(checkImport({ ...learned, originatorId: '192.0.2.10' }, fromIbgp, me).accept).toBe(false);
    expect(checkImport({ ...learned, clusterList: ['1.1.1.1', '192.0.2.10'] }, fromIbgp, me).accept).toBe(false);
  });
});

describe('export rules', () => {
  it('eBGP: prepends our AS, next-hop self, no LOCAL_PREF, no foreign MED', () => {
    const v = exportRoute(learned, fromEbgp, ebgp, 'ipv4-unicast', me);
    expect(v).toEqual({ send: true, nextHop: '192.0.2.10', attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [64512, 65001] }], communities: [65001 * 65536 + 1] } });
  });
  it('eBGP: sends our own MED for local routes', () => {
    const v = exportRoute({ nextHops: [], origin: 0, asPath: [], med: 5 }, local, ebgp, 'ipv4-unicast', me);
    expect(v).toMatchObject({ send: true, nextHop: '192.0.2.10', attributes: { asPath: [{ type: 'sequence', asns: [64512] }], med: 5 } });
  });
  it('iBGP: keeps the external next hop, sets LOCAL_PREF, keeps MED', () => {
    expect(exportRoute(learned, fromEbgp, ibgp, 'ipv4-unicast', me)).toEqual({
      send: true,
      nextHop: '192.0.2.1',
      attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65001] }], localPref: 300, med: 7, communities: [65001 * 65536 + 1] },
    });
    expect(exportRoute(learned, fromEbgp, { ...ibgp, nextHopMode: 'self' }, 'ipv4-unicast', me)).toMatchObject({ nextHop: '192.0.2.10' });
  });
  it('iBGP split horizon without reflection', () => {
    expect(exportRoute(learned, fromIbgp, ibgp, 'ipv4-unicast', me)).toEqual({ send: false, reason: 'iBGP split horizon' });
  });
  it('reflects client routes to everyone and non-client routes to clients, with ORIGINATOR_ID and CLUSTER_LIST', () => {
    const toNonClient = exportRoute(learned, fromClient, ibgp, 'ipv4-unicast', me);
    expect(toNonClient).toMatchObject({ send: true, attributes: { originatorId: '192.0.2.1', clusterList: ['192.0.2.10'] } });
    const toClient = exportRoute({ ...learned, originatorId: '10.9.9.9', clusterList: ['1.1.1.1'] }, fromIbgp, client, 'ipv4-unicast', me);
    expect(toClient).toMatchObject({ send: true, nextHop: '192.0.2.1', attributes: { originatorId: '10.9.9.9', clusterList: ['192.0.2.10', '1.1.1.1'] } });
  });
  it('honours NO_ADVERTISE and NO_EXPORT', () => {
    expect(exportRoute({ ...learned, communities: [0xffffff02] }, fromEbgp, ibgp, 'ipv4-unicast', me)).toEqual({ send: false, reason: 'NO_ADVERTISE' });
    expect(exportRoute({ ...learned, communities: [0xffffff01] }, fromIbgp, ebgp, 'ipv4-unicast', me)).toEqual({ send: false, reason: 'NO_EXPORT' });
    expect(exportRoute({ ...learned, communities: [0xffffff01] }, fromEbgp, ibgp, 'ipv4-unicast', me).send).toBe(true);
  });
  it('passes unknown optional transitive attributes on with the Partial bit', () => {
    const v = exportRoute({ ...learned, unknown: [{ flags: 0xc0, typeCode: 99, value: Buffer.from([1]) }, { flags: 0x80, typeCode: 98, value: Buffer.from([2]) }] }, fromEbgp, ebgp, 'ipv4-unicast', me);
    expect(v.send && v.attributes.unknown).toEqual([{ flags: 0xe0, typeCode: 99, value: Buffer.from([1]) }]);
  });
  it('needs a next hop of the family', () => {
    expect(exportRoute(learned, fromEbgp, { ...ebgp, nextHopSelf: { ipv4: '192.0.2.10' } }, 'ipv6-unicast', me)).toEqual({ send: false, reason: 'no IPv6 next hop for this peer' });
  });
});
