import {
  vethAddArgs, containerBatch, containerV6RouteArgs, hostSysctls, containerSysctls, isPair, dataplaneProblems, parseLink, LinuxDataplane, type LinkState,
} from '../../../src/cni/dataplane';
import type { RunResult, Runner } from '../../../src/cni/exec';
import { CniError, TARTAN_CNI_INTERFACE_EXISTS } from '../../../src/cni';
import { isTartanError } from '../../../src/errors';

describe('dataplane commands (pure)', () => {
  it('creates the pair with the container end straight in its namespace, Calico\'s host MAC, and the MTU on both ends', () => {
    expect(vethAddArgs({ hostVeth: 'cali0123456789a', ifname: 'eth0', netns: '/var/run/netns/p', mtu: 1450 })).toEqual([
      'link', 'add', 'cali0123456789a', 'mtu', '1450', 'address', 'ee:ee:ee:ee:ee:ee', 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', '1450', 'netns', '/var/run/netns/p',
    ]);
    expect(vethAddArgs({ hostVeth: 'c', ifname: 'e', netns: '/n', mtu: 0 })).not.toContain('mtu');
  });

  it('configures the container end idempotently: addresses, the 169.254.1.1 link route, default route, static neighbour', () => {
    expect(containerBatch('eth0', ['198.19.0.5', 'fd00:7a7a::5'])).toBe(
      [
        'link set dev eth0 up',
        'addr replace 198.19.0.5/32 dev eth0',
        'addr replace fd00:7a7a::5/128 dev eth0 nodad',
        'route replace 169.254.1.1 dev eth0 scope link',
        'route replace default via 169.254.1.1 dev eth0',
        'neigh replace 169.254.1.1 lladdr ee:ee:ee:ee:ee:ee dev eth0 nud permanent',
        '',
      ].join('\n'),
    );
    expect(containerBatch('eth0', ['fd00::1'])).not.toContain('169.254.1.1');
    expect(containerV6RouteArgs('eth0', 'fe80::1')).toEqual(['-6', 'route', 'replace', 'default', 'via', 'fe80::1', 'dev', 'eth0']);
  });

  it('sysctls: Calico\'s host-side set per family; forwarding in the pod off unless allowed', () => {
    expect(hostSysctls('caliX', true, false)).toEqual([
      ['net/ipv4/conf/caliX/route_localnet', '1'],
      ['net/ipv4/neigh/caliX/proxy_delay', '0'],
      ['net/ipv4/conf/caliX/proxy_arp', '1'],
      ['net/ipv4/conf/caliX/forwarding', '1'],
    ]);
    expect(hostSysctls('caliX', false, true).map(([p]) => p)).toContain('net/ipv6/conf/caliX/proxy_ndp');
    expect(containerSysctls(true, false, false)).toEqual(['net.ipv4.ip_forward=0']);
    expect(containerSysctls(true, true, true)).toContain('net.ipv6.conf.all.forwarding=1');
  });

  it('parses `ip -j -d link` rows and recognises a veth pair', () => {
    const host = parseLink({ ifindex: 7, link_index: 2, ifname: 'caliX', address: 'ee:ee:ee:ee:ee:ee', mtu: 1500, flags: ['UP'], linkinfo: { info_kind: 'veth' } });
    const cont = parseLink({ ifindex: 2, link_index: 7, ifname: 'eth0', address: 'aa:aa:aa:aa:aa:aa', mtu: 1500, flags: [], linkinfo: { info_kind: 'veth' } });
    expect(host).toEqual({ ifindex: 7, linkIndex: 2, name: 'caliX', mac: 'ee:ee:ee:ee:ee:ee', mtu: 1500, up: true, kind: 'veth' });
    expect(isPair(host, cont)).toBe(true);
    expect(isPair(host, { ...cont, linkIndex: 8 })).toBe(false);
    expect(isPair(host, { ...cont, kind: 'dummy' })).toBe(false);
    expect(isPair(undefined, cont)).toBe(false);
  });

  it('CHECK lists what is missing', () => {
    const host: LinkState = { ifindex: 7, linkIndex: 2, name: 'caliX', mac: 'ee:ee:ee:ee:ee:ee', mtu: 1500, up: true, kind: 'veth' };
    const link: LinkState = { ifindex: 2, linkIndex: 7, name: 'eth0', mac: 'aa', mtu: 1500, up: true, kind: 'veth' };
    const expectv = { ifname: 'eth0', hostVeth: 'caliX', netns: '/n', addresses: ['198.19.0.5'] };
    const routes = [{ dst: '169.254.1.1', scope: 'link' }, { dst: 'default', gateway: '169.254.1.1' }];
    expect(dataplaneProblems({ host, container: { link, addresses: ['198.19.0.5'], routes } }, expectv)).toEqual([]);
    expect(dataplaneProblems({ host: { ...host, up: false }, container: { link, addresses: [], routes: [] } }, expectv)).toEqual([
      'host interface caliX is down',
      'eth0 lacks address 198.19.0.5/32',
      'no route 169.254.1.1 dev eth0 scope link',
      'no default route via 169.254.1.1',
    ]);
    expect(dataplaneProblems({}, expectv)).toEqual(['host interface caliX does not exist', 'interface eth0 does not exist in /n']);
  });
});

/** A kernel of two namespaces ("host" and the container's), enough for the driver's decisions. */
class FakeKernel {
  links = new Map<string, Map<string, Record<string, unknown>>>([['host', new Map()]]);
  commands: string[] = [];
  inputs: string[] = [];
  sysctls: string[] = [];
  private next = 10;
  failOn?: RegExp;

  ns(name: string): Map<string, Record<string, unknown>> {
    let m = this.links.get(name);
    if (!m) this.links.set(name, (m = new Map()));
    return m;
  }

  run: Runner = async (argv, opts) => {
    let ns = 'host';
    let args = [...argv];
    if (args[0] === 'nsenter') {
      ns = args[1]!.replace('--net=', '');
      args = args.slice(2);
    }
    this.commands.push(`${ns === 'host' ? '' : `[${ns}] `}${args.join(' ')}`);
    if (opts?.input) this.inputs.push(opts.input);
    const ok = (stdout = ''): RunResult => ({ code: 0, stdout, stderr: '' });
    const missing = (n: string): RunResult => ({ code: 1, stdout: '', stderr: `Device "${n}" does not exist.` });
    if (this.failOn?.test(args.join(' '))) return { code: 2, stdout: '', stderr: 'RTNETLINK answers: Operation not permitted' };
    const links = this.ns(ns);
    if (args[0] === 'ip' && args.includes('show') && args.includes('link')) {
      const n = args[args.length - 1]!;
      const l = links.get(n);
      return l ? ok(JSON.stringify([l])) : missing(n);
    }
    if (args.slice(0, 3).join(' ') === 'ip link add') {
      const host = args[3]!;
      const peer = args[args.indexOf('name') + 1]!;
      const target = args[args.length - 1]!;
      const hi = this.next++;
      const ci = this.next++;
      this.ns('host').set(host, { ifindex: hi, link_index: ci, ifname: host, address: 'ee:ee:ee:ee:ee:ee', mtu: 1500, flags: [], linkinfo: { info_kind: 'veth' } });
      this.ns(target).set(peer, { ifindex: ci, link_index: hi, ifname: peer, address: '0a:00:00:00:00:01', mtu: 1500, flags: [], linkinfo: { info_kind: 'veth' } });
      return ok();
    }
    if (args.slice(0, 3).join(' ') === 'ip link del') {
      const n = args[args.length - 1]!;
      const l = links.get(n);
      if (!l) return missing(n);
      // The pair goes together.
      for (const m of this.links.values()) for (const [k, v] of m) if (v['ifindex'] === l['link_index'] || k === n) m.delete(k);
      return ok();
    }
    return ok();
  };
}

describe('LinuxDataplane decisions (fake kernel)', () => {
  const spec = { netns: 'pod', ifname: 'eth0', hostVeth: 'caliX', mtu: 0, addresses: ['198.19.0.5'], allowIpForwarding: false };
  const make = (k: FakeKernel): LinuxDataplane => new LinuxDataplane({ run: k.run, writeSysctl: async (p, v) => void k.sysctls.push(`${p}=${v}`) });

  it('creates and configures a new pair', async () => {
    const k = new FakeKernel();
    const r = await make(k).setup(spec);
    expect(r).toEqual({ containerMac: '0a:00:00:00:00:01', created: true });
    expect(k.commands).toContain('ip link add caliX address ee:ee:ee:ee:ee:ee type veth peer name eth0 netns pod');
    expect(k.commands).toContain('ip link set dev caliX up');
    expect(k.commands).toContain('[pod] sysctl -q -w net.ipv4.ip_forward=0');
    expect(k.inputs).toEqual([containerBatch('eth0', ['198.19.0.5'])]);
    expect(k.sysctls).toContain('net/ipv4/conf/caliX/proxy_arp=1');
  });

  it('a repeated ADD reuses its own pair', async () => {
    const k = new FakeKernel();
    await make(k).setup(spec);
    k.commands = [];
    const r = await make(k).setup(spec);
    expect(r.created).toBe(false);
    expect(k.commands.some((c) => c.includes('link add'))).toBe(false);
  });

  it('refuses an existing interface that is not its own, and touches nothing', async () => {
    const k = new FakeKernel();
    k.ns('pod').set('eth0', { ifindex: 3, ifname: 'eth0', address: 'x', mtu: 1500, flags: ['UP'], linkinfo: { info_kind: 'macvlan' } });
    await expect(make(k).setup(spec)).rejects.toThrow(expect.objectContaining({ cniCode: TARTAN_CNI_INTERFACE_EXISTS }));
    await expect(make(k).setup(spec)).rejects.toBeInstanceOf(CniError);
    expect(k.commands.every((c) => c.includes(' show '))).toBe(true);
  });

  it('replaces a stale host veth of the same name (an older sandbox of the pod)', async () => {
    const k = new FakeKernel();
    await make(k).setup({ ...spec, netns: 'old' });
    k.commands = [];
    await make(k).setup(spec);
    expect(k.commands).toContain('ip link del dev caliX');
    expect(k.ns('old').size).toBe(0);
    expect(k.ns('pod').has('eth0')).toBe(true);
  });

  it('removes the pair it made when configuring fails, and reports a dataplane error', async () => {
    const k = new FakeKernel();
    k.failOn = /-batch/;
    const err = await make(k).setup(spec).catch((e: unknown) => e);
    expect(isTartanError(err, 'CNI_DATAPLANE_ERROR')).toBe(true);
    expect((err as Error).message).toContain('Operation not permitted');
    expect(k.ns('host').size).toBe(0);
    expect(k.ns('pod').size).toBe(0);
  });

  it('teardown and host-link removal are fine when nothing is there', async () => {
    const k = new FakeKernel();
    const dp = make(k);
    expect(await dp.removeHostLink('caliX')).toBe(false);
    expect(await dp.teardown('', 'eth0')).toBe(false);
    expect(await dp.teardown('/nonexistent/netns/path', 'eth0')).toBe(false);
  });
});
