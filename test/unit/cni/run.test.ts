import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCni, resolveNodename, versionResult } from '../../../src/cni';

describe('one invocation (no datastore reached)', () => {
  const quiet = { stderr: () => undefined };

  it('VERSION, with or without a configuration', async () => {
    expect(await runCni({ CNI_COMMAND: 'VERSION' }, '', quiet)).toEqual({ exitCode: 0, stdout: JSON.stringify(versionResult(undefined)) });
    const out = await runCni({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}', quiet);
    expect(JSON.parse(out.stdout)).toEqual({ cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] });
  });

  it('a bad configuration: error object on stdout in the config\'s version, exit 1', async () => {
    const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/x', CNI_IFNAME: 'eth0' };
    const out = await runCni(env, JSON.stringify({ cniVersion: '0.4.0', name: 'net', type: 'tartan', etcd_endpoints: 'e:2379', mtu: 'big', ipam: { type: 'tartan-ipam' } }), quiet);
    expect(out.exitCode).toBe(1);
    expect(JSON.parse(out.stdout)).toEqual({
      cniVersion: '0.4.0',
      code: 7,
      msg: 'invalid network config: mtu: must be an integer from 68 to 65535 (or 0 for the kernel default), got "big"',
      details: 'mtu: must be an integer from 68 to 65535 (or 0 for the kernel default), got "big"',
    });
  });

  it('missing variables (code 4), not JSON (code 6), no command (code 4)', async () => {
    const env = await runCni({ CNI_COMMAND: 'DEL' }, '{"cniVersion":"1.0.0"}', quiet);
    expect(JSON.parse(env.stdout)).toMatchObject({ code: 4, msg: 'invalid environment: CNI_CONTAINERID, CNI_IFNAME' });
    expect(JSON.parse((await runCni({ CNI_COMMAND: 'ADD' }, 'not json', quiet)).stdout)).toMatchObject({ code: 6 });
    expect(JSON.parse((await runCni({}, '', quiet)).stdout)).toMatchObject({ code: 4, msg: 'CNI_COMMAND is not set' });
  });
});

describe('node name', () => {
  it('nodename, else the nodename file, else the host name (Calico\'s order)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tartan-cni-'));
    try {
      const file = join(dir, 'nodename');
      expect(resolveNodename({ nodename: 'n1', nodenameFile: file }, () => 'host')).toBe('n1');
      expect(resolveNodename({ nodenameFile: file }, () => 'host')).toBe('host');
      writeFileSync(file, 'node-7\n');
      expect(resolveNodename({ nodenameFile: file }, () => 'host')).toBe('node-7');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
