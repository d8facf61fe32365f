import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCliConfig, resolveDatastoreConfig } from '../../../src/cli/datastore-config';
import { DEFAULT_CONTROL_SOCKET } from '../../../src/cli/main';
import { DEFAULT_CONTROL_SOCKET as DAEMON_SOCKET } from '../../../src/config';

const dir = mkdtempSync(join(tmpdir(), 'tartanctl-cfg-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('tartanctl datastore settings', () => {
  it('reads a CalicoAPIConfig, the shipped example included', () => {
    const cfg = parseCliConfig(
      'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: http://a:2379, http://b:2379\n  etcdCACertFile: /ca\n  etcdUsername: u\n  etcdPassword: p\n',
      'f',
    );
    expect(cfg).toEqual({ endpoints: ['http://a:2379', 'http://b:2379'], caCertFile: '/ca', username: 'u', password: 'p' });
    expect(resolveDatastoreConfig({ config: join(__dirname, '../../../config/tartanctl.yaml') }, {}).endpoints).toEqual(['http://127.0.0.1:2379']);
  });

  it('names the bad field', () => {
    expect(() => parseCliConfig('kind: CalicoAPIConfig\nspec:\n  datastoreType: kubernetes\n', 'c.yaml')).toThrow('invalid config file c.yaml: spec.datastoreType: only etcdv3 is supported, got "kubernetes"');
    expect(() => parseCliConfig('kind: CalicoAPIConfig\nspec:\n  etcdEndpoint: x\n', 'c.yaml')).toThrow(/^invalid config file c.yaml: spec.etcdEndpoint: unknown field/);
    expect(() => parseCliConfig('spec: {}\n', 'c.yaml')).toThrow('invalid config file c.yaml: spec.etcdEndpoints: required (e.g. http://127.0.0.1:2379)');
    expect(() => parseCliConfig('spec: [\n', 'c.yaml')).toThrow(/^invalid config file c.yaml: .*line/);
  });

  it('uses flag over file over environment', () => {
    const f = file('a.yaml', 'spec:\n  etcdEndpoints: http://file:2379\n  etcdCertFile: /c\n  etcdKeyFile: /k\n');
    const env = { ETCD_ENDPOINTS: 'http://env:2379' };
    expect(resolveDatastoreConfig({}, env).endpoints).toEqual(['http://env:2379']);
    expect(resolveDatastoreConfig({ config: f }, env)).toMatchObject({ endpoints: ['http://file:2379'], certFile: '/c', keyFile: '/k' });
    expect(resolveDatastoreConfig({ config: f, etcdEndpoints: 'http://flag:1,http://flag:2' }, env)).toMatchObject({ endpoints: ['http://flag:1', 'http://flag:2'], certFile: '/c' });
    expect(resolveDatastoreConfig({}, {}).endpoints).toEqual(['http://127.0.0.1:2379']);
    expect(() => resolveDatastoreConfig({ config: join(dir, 'missing.yaml') }, env)).toThrow(`cannot read config file ${join(dir, 'missing.yaml')}: no such file`);
  });

  it('uses the daemon default control socket', () => {
    expect(DEFAULT_CONTROL_SOCKET).toBe(DAEMON_SOCKET);
  });
});
