/**
 * The built tartanctl (`node dist/cli/main.js`, as operators run it) against
 * a real etcd on 127.0.0.1: every resource command, IPAM, node status from
 * the datastore, and the failures an operator meets, with exact messages
 * and exit codes.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd, type EtcdServer } from '../datastore/etcd-server';
import { Datastore } from '../../../src/datastore';
import { Ipam } from '../../../src/ipam';

const REPO = join(__dirname, '../../..');
const CLI = join(REPO, 'dist/cli/main.js');

interface Result {
  code: number;
  out: string;
  err: string;
}

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

let etcd: EtcdServer;
let dir: string;

function ctl(args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env['PATH'] ?? '', ETCD_ENDPOINTS: etcd.endpoint, ...opts.env };
    const child = spawn(process.execPath, [CLI, ...args], { env, cwd: dir });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out: out.trimEnd(), err: err.trimEnd() }));
    child.stdin.end(opts.stdin ?? '');
  });
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const PEERS = `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: rr1
spec:
  peerIP: 10.0.0.1
  asNumber: 64512
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: rack-a
spec:
  peerIP: 10.0.0.2
  asNumber: 65001
  nodeSelector: rack == 'a'
`;

beforeAll(async () => {
  if (statSync(CLI, { throwIfNoEntry: false }) === undefined) throw new Error(`${CLI} is missing: run npm run build first`);
  if (statSync(CLI).mtimeMs < newest(join(REPO, 'src/cli'))) throw new Error('dist/cli is older than src/cli: run npm run build first');
  etcd = await startEtcd();
  dir = mkdtempSync(join(tmpdir(), 'tartanctl-it-'));
});

afterAll(async () => {
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tartanctl resources against etcd', () => {
  it('create, get in every format, and refuses to create twice', async () => {
    const f = file('peers.yaml', PEERS);
    expect(await ctl(['create', '-f', f])).toEqual({ code: 0, out: "Successfully created 2 'BGPPeer' resource(s)", err: '' });
    expect(await ctl(['get', 'bgpp'])).toEqual({
      code: 0,
      out: ['NAME     PEERIP     NODE          ASN', "rack-a   10.0.0.2   rack == 'a'   65001", 'rr1      10.0.0.1   (global)      64512'].join('\n'),
      err: '',
    });
    const one = await ctl(['get', 'bgppeer', 'rr1', '-o', 'yaml']);
    expect(one.code).toBe(0);
    expect(one.out).toMatch(/^apiVersion: projectcalico.org\/v3\nkind: BGPPeer\nmetadata:\n  name: rr1\n/);
    expect(one.out).toMatch(/resourceVersion: "\d+"/);
    const list = JSON.parse((await ctl(['get', 'bgppeers', '-o', 'json'])).out);
    expect(list.kind).toBe('BGPPeerList');
    expect(list.items).toHaveLength(2);
    expect(await ctl(['get', 'bp', '-o', 'custom-columns=NAME,ASN'])).toEqual({ code: 0, out: 'NAME     ASN\nrack-a   65001\nrr1      64512', err: '' });
    expect(await ctl(['create', '-f', f])).toEqual({ code: 1, out: '', err: 'Error: BGPPeer "rr1" already exists; nothing was created (use apply to update, or --skip-exists)' });
    expect(await ctl(['create', '-f', f, '--skip-exists'])).toMatchObject({ code: 0, out: "Successfully created 2 'BGPPeer' resource(s)" });
  });

  it('apply from stdin and a directory (-R), several kinds', async () => {
    const pool = 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pool1\nspec:\n  cidr: 10.65.0.0/16\n  blockSize: 26\n';
    expect(await ctl(['apply', '-f', '-'], { stdin: pool })).toEqual({ code: 0, out: "Successfully applied 1 'IPPool' resource(s)", err: '' });
    file('tree/nodes.yaml', 'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: node-1\nspec:\n  bgp:\n    ipv4Address: 10.0.0.11/24\n');
    file('tree/sub/more.json', JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'List', items: [
      { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'node-2' }, spec: { bgp: { ipv4Address: '10.0.0.12/24', asNumber: 65002 } } },
      { apiVersion: 'projectcalico.org/v3', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber: 64600, nodeToNodeMeshEnabled: false } },
    ] }));
    file('tree/README.txt', 'not a manifest');
    expect(await ctl(['apply', '-f', join(dir, 'tree')])).toEqual({ code: 0, out: "Successfully applied 1 'Node' resource(s)", err: '' });
    expect(await ctl(['apply', '-f', join(dir, 'tree'), '-R'])).toEqual({ code: 0, out: 'Successfully applied 3 resource(s)', err: '' });
    expect(await ctl(['get', 'nodes', '-o', 'wide'])).toEqual({
      code: 0,
      out: ['NAME     ASN       IPV4           IPV6', 'node-1   (64600)   10.0.0.11/24', 'node-2   65002     10.0.0.12/24'].join('\n'),
      err: '',
    });
    expect((await ctl(['get', 'bgpconfig'])).out).toBe('NAME      LOGSEVERITY   MESHENABLED   ASNUMBER\ndefault                 false         64600');
  });

  it('validates every document before writing: one bad document writes nothing', async () => {
    const bad = file('mixed.yaml', `${PEERS.replace('rr1', 'new-ok')}---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: broken\nspec:\n  peerIP: 10.0.0.300\n  asNumber: 1\n`);
    expect(await ctl(['apply', '-f', bad])).toEqual({
      code: 1,
      out: '',
      err: `Error: ${bad}: manifest is invalid: [2] spec.peerIP: "10.0.0.300" is not an IP address (IPv4, IPv4:port, IPv6 or [IPv6]:port)`,
    });
    expect(await ctl(['get', 'bgppeer', 'new-ok'])).toEqual({ code: 1, out: '', err: 'Error: BGPPeer "new-ok" not found' });
    expect(await ctl(['validate', '-f', bad])).toMatchObject({ code: 1 });
    expect(await ctl(['validate', '-f', join(dir, 'peers.yaml')])).toEqual({ code: 0, out: "Successfully validated 2 'BGPPeer' resource(s)", err: '' });
  });

  it('reports bad YAML with its line, and an unknown kind in a file with the field', async () => {
    const y = file('bad.yaml', 'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: x\nspec:\n  peerIP: [1\n');
    expect(await ctl(['apply', '-f', y])).toEqual({
      code: 1,
      out: '',
      err: `Error: ${y}: cannot parse manifest: Flow sequence in block collection must be sufficiently indented and end with a ] at line 7, column 1`,
    });
    const k = file('kind.yaml', 'apiVersion: projectcalico.org/v3\nkind: Frob\nmetadata:\n  name: x\n');
    const r = await ctl(['create', '-f', k]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^Error: .*kind\.yaml: Frob "x" is invalid: kind: must be one of Node, BGPPeer, .* got "Frob"$/);
    expect(await ctl(['apply', '-f', join(dir, 'nope.yaml')])).toEqual({ code: 1, out: '', err: `Error: ${join(dir, 'nope.yaml')}: no such file or directory` });
  });

  it('refuses a stale resourceVersion on replace and apply with a clear message', async () => {
    const current = await ctl(['get', 'bgppeer', 'rr1', '-o', 'yaml']);
    const stale = file('rr1.yaml', current.out);
    expect(await ctl(['patch', 'bgppeer', 'rr1', '-p', '{"spec":{"asNumber":64513}}'])).toEqual({ code: 0, out: "Successfully patched 1 'BGPPeer' resource", err: '' });
    const rv = /resourceVersion: "(\d+)"/.exec(current.out)![1];
    for (const verb of ['replace', 'apply']) {
      const r = await ctl([verb, '-f', stale]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        new RegExp(`^Error: update conflict: BGPPeer "rr1" was modified: resourceVersion ${rv} is stale \\(now \\d+\\); read it again \\(tartanctl get \\.\\.\\. -o yaml\\) and retry, or remove metadata\\.resourceVersion to overwrite$`),
      );
    }
    expect(JSON.parse((await ctl(['get', 'bgppeer', 'rr1', '-o', 'json'])).out).spec.asNumber).toBe(64513);
    expect(await ctl(['replace', '-f', file('fresh.yaml', current.out.replace(/ *resourceVersion: .*\n/, ''))])).toMatchObject({ code: 0, out: "Successfully replaced 1 'BGPPeer' resource(s)" });
  });

  it('patches with a merge patch and a JSON patch, and refuses invalid results', async () => {
    expect(await ctl(['patch', 'node', 'node-1', '--type', 'json', '-p', '[{"op":"add","path":"/spec/bgp/routeReflectorClusterID","value":"244.0.0.1"}]'])).toMatchObject({ code: 0, out: "Successfully patched 1 'Node' resource" });
    expect(JSON.parse((await ctl(['get', 'node', 'node-1', '-o', 'json'])).out).spec.bgp.routeReflectorClusterID).toBe('244.0.0.1');
    expect(await ctl(['patch', 'bgppeer', 'rr1', '-p', '{"spec":{"peerIP":"bogus"}}'])).toEqual({
      code: 1, out: '', err: 'Error: BGPPeer "rr1" is invalid: spec.peerIP: "bogus" is not an IP address (IPv4, IPv4:port, IPv6 or [IPv6]:port)',
    });
    expect(await ctl(['patch', 'bgppeer', 'rr1', '-p', '{bad'])).toMatchObject({ code: 1, err: expect.stringMatching(/^Error: invalid patch: not JSON: /) });
    expect(await ctl(['patch', 'bgppeer', 'ghost', '-p', '{}'])).toEqual({ code: 1, out: '', err: 'Error: BGPPeer "ghost" not found' });
  });

  it('sets and removes labels', async () => {
    expect(await ctl(['label', 'nodes', 'node-1', 'route-reflector=true'])).toEqual({ code: 0, out: 'Successfully set label route-reflector on node node-1', err: '' });
    expect(await ctl(['label', 'no', 'node-1', 'route-reflector=false'])).toEqual({
      code: 1, out: '', err: 'Error: cannot set label route-reflector on node node-1: it is already set to "true"; use --overwrite to change it',
    });
    expect(await ctl(['label', 'no', 'node-1', 'route-reflector=false', '--overwrite'])).toMatchObject({ code: 0 });
    expect(JSON.parse((await ctl(['get', 'node', 'node-1', '-o', 'json'])).out).metadata.labels).toEqual({ 'route-reflector': 'false' });
    expect(await ctl(['label', 'no', 'node-1', 'route-reflector-'])).toEqual({ code: 0, out: 'Successfully removed label route-reflector from node node-1', err: '' });
    expect(await ctl(['label', 'no', 'node-1', 'route-reflector-'])).toEqual({ code: 1, out: '', err: 'Error: cannot remove label route-reflector from node node-1: it is not set' });
  });

  it('handles namespaced kinds with -n and -A', async () => {
    const np = (ns?: string): string => `apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: allow-web\n${ns ? `  namespace: ${ns}\n` : ''}spec:\n  selector: app == 'web'\n  order: 10\n`;
    expect(await ctl(['apply', '-f', '-'], { stdin: np() })).toMatchObject({ code: 0 });
    expect(await ctl(['apply', '-f', '-', '-n', 'prod'], { stdin: np() })).toMatchObject({ code: 0 });
    expect(await ctl(['get', 'np'])).toEqual({ code: 0, out: 'NAME        TIER\nallow-web   default', err: '' });
    expect(await ctl(['get', 'np', '-A', '-o', 'wide'])).toEqual({
      code: 0,
      out: ['NAMESPACE   NAME        TIER      ORDER   SELECTOR', "default     allow-web   default   10      app == 'web'", "prod        allow-web   default   10      app == 'web'"].join('\n'),
      err: '',
    });
    expect(await ctl(['delete', 'policy', 'allow-web', '-n', 'prod'])).toEqual({ code: 0, out: "Successfully deleted 1 'NetworkPolicy' resource(s)", err: '' });
    expect(await ctl(['apply', '-f', '-', '-n', 'prod'], { stdin: np('dev') })).toEqual({ code: 1, out: '', err: 'Error: NetworkPolicy "dev/allow-web": its namespace does not match -n prod' });
  });

  it('deletes by name and by file, all or nothing', async () => {
    expect(await ctl(['delete', 'bgppeer', 'rr1', 'ghost'])).toEqual({ code: 1, out: '', err: 'Error: resource does not exist: BGPPeer "ghost"; nothing was deleted' });
    expect((await ctl(['get', 'bgppeer', 'rr1'])).code).toBe(0);
    expect(await ctl(['delete', 'bgppeer', 'rr1', 'ghost', '--skip-not-exists'])).toEqual({ code: 0, out: "Successfully deleted 2 'BGPPeer' resource(s)", err: '' });
    expect(await ctl(['delete', '-f', join(dir, 'peers.yaml'), '--skip-not-exists'])).toMatchObject({ code: 0, out: "Successfully deleted 2 'BGPPeer' resource(s)" });
    expect(await ctl(['get', 'bgppeers'])).toEqual({ code: 0, out: 'NAME   PEERIP   NODE   ASN', err: '' });
    expect(await ctl(['delete', 'bgppeer'])).toEqual({ code: 2, out: '', err: 'Error: delete needs -f FILE or KIND NAME...' });
  });

  it('exits 2 with the reason for an unknown kind, option or format', async () => {
    const kind = await ctl(['get', 'frobs']);
    expect(kind.code).toBe(2);
    expect(kind.err).toBe(
      "Error: resource type 'frobs' is not supported (known: node, bgppeer, bgpconfiguration, bgpfilter, ippool, blockaffinity, workloadendpoint, hostendpoint, networkpolicy, globalnetworkpolicy, profile, felixconfiguration, caliconodestatus)",
    );
    expect(await ctl(['get', 'node', '-o', 'custom-columns=NAME,COLOUR'])).toEqual({ code: 2, out: '', err: 'Error: unknown column "COLOUR" for Node (known: NAME, ASN, IPV4, IPV6)' });
    expect((await ctl(['get', 'node', '--frobnicate'])).code).toBe(2);
  });
});

describe('tartanctl datastore settings', () => {
  it('fails with a one-line reason when etcd is unreachable', async () => {
    expect(await ctl(['get', 'nodes'], { env: { ETCD_ENDPOINTS: 'http://127.0.0.1:1' } })).toEqual({
      code: 1, out: '', err: 'Error: cannot connect to the datastore (etcd at http://127.0.0.1:1): connect ECONNREFUSED 127.0.0.1:1',
    });
  });

  it('reads endpoints from -c FILE, and --etcd-endpoints overrides it', async () => {
    const cfg = file('tartanctl.yaml', `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: ${etcd.endpoint}\n`);
    const env = { ETCD_ENDPOINTS: 'http://127.0.0.1:1' };
    expect(await ctl(['-c', cfg, 'get', 'ippools'], { env })).toEqual({ code: 0, out: 'NAME    CIDR           SELECTOR\npool1   10.65.0.0/16   all()', err: '' });
    expect(await ctl(['get', 'ippools', '--etcd-endpoints', etcd.endpoint], { env })).toMatchObject({ code: 0 });
    expect(await ctl(['-c', join(dir, 'missing.yaml'), 'get', 'ippools'])).toEqual({ code: 1, out: '', err: `Error: cannot read config file ${join(dir, 'missing.yaml')}: no such file` });
  });
});

describe('tartanctl ipam and node status from the datastore', () => {
  beforeAll(async () => {
    const ds = Datastore.connect({ endpoints: [etcd.endpoint] });
    try {
      const ipam = new Ipam(ds);
      await ipam.autoAssign({ node: 'node-1', handleId: 'k8s-pod-network.abc', num4: 2, attrs: { node: 'node-1', namespace: 'default', pod: 'web-1' } });
      // What borrowing leaves behind: an address in node-1's block whose attributes name node-2.
      await ipam.autoAssign({ node: 'node-1', handleId: 'k8s-pod-network.def', num4: 1, attrs: { node: 'node-2', namespace: 'prod', pod: 'db-0', type: 'workload' } });
      await ds.apply({
        apiVersion: 'projectcalico.org/v3', kind: 'CalicoNodeStatus', metadata: { name: 'node-1-status' },
        spec: { node: 'node-1', classes: ['BGP'], updatePeriodSeconds: 10 },
        status: { lastUpdated: '2026-11-25T10:00:00Z', bgp: { numberEstablishedV4: 1, numberNotEstablishedV4: 1, peersV4: [
          { peerIP: '10.0.0.2', type: 'NodeMesh', state: 'Established', since: '09:58:01' },
          { peerIP: '10.0.0.3', type: 'GlobalPeer', state: 'Active', since: '09:59:30' },
        ] } },
      });
    } finally {
      ds.close();
    }
  });

  it('shows pools and blocks', async () => {
    const r = await ctl(['ipam', 'show']);
    expect(r).toEqual({
      code: 0,
      out: [
        '+----------+--------------+-----------+------------+--------------+',
        '| GROUPING |     CIDR     | IPS TOTAL | IPS IN USE |   IPS FREE   |',
        '+----------+--------------+-----------+------------+--------------+',
        '| IP Pool  | 10.65.0.0/16 |     65536 |     3 (0%) | 65533 (100%) |',
        '+----------+--------------+-----------+------------+--------------+',
      ].join('\n'),
      err: '',
    });
    const blocks = await ctl(['ipam', 'show', '--show-blocks']);
    expect(blocks.out).toMatch(/\| Block    \| 10\.65\.\d+\.\d+\/26 +\| +64 \| +3 \(5%\) \| +61 \(95%\) \|/);
  });

  it('shows one address, borrowed addresses, and releases an address', async () => {
    const borrowed = (await ctl(['ipam', 'show', '--show-borrowed'])).out.split('\n')[3]!;
    const ip = borrowed.split('|')[1]!.trim();
    expect(borrowed).toMatch(new RegExp(`^\\| ${ip.replace(/\./g, '\\.')} +\\| node-2 +\\| 10\\.65\\.[\\d.]+/26 \\| node-1 +\\| workload \\| prod/db-0 +\\|$`));
    expect(await ctl(['ipam', 'show', '--ip', ip])).toEqual({
      code: 0, out: [`IP ${ip} is in use`, 'Handle ID: k8s-pod-network.def', 'Attributes:', '  namespace: prod', '  node: node-2', '  pod: db-0', '  type: workload'].join('\n'), err: '',
    });
    expect(await ctl(['ipam', 'release', '--ip', ip])).toEqual({ code: 0, out: `Successfully released IP address ${ip}`, err: '' });
    expect(await ctl(['ipam', 'show', '--ip', ip])).toEqual({ code: 0, out: `${ip} is not assigned`, err: '' });
    expect(await ctl(['ipam', 'release', '--ip', ip])).toEqual({ code: 1, out: '', err: `Error: IP address ${ip} is not assigned` });
    expect(await ctl(['ipam', 'release', '--ip', '10.0.0.300'])).toEqual({ code: 1, out: '', err: 'Error: "10.0.0.300" is not an IP address' });
  });

  it('checks IPAM and writes a JSON report', async () => {
    const report = join(dir, 'report.json');
    const r = await ctl(['ipam', 'check', '-o', report]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Found 1 IPAM blocks.\nIPAM blocks record 2 allocations.');
    expect(r.out).toContain('Check complete; found 0 problems.');
    expect(r.out.endsWith(`Wrote the report to ${report}`)).toBe(true);
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ blocks: 1, allocations: 2, problems: [] });
  });

  it('prints a node status published to the datastore, and says so when there is none', async () => {
    expect(await ctl(['node', 'status', '--node', 'node-1'])).toEqual({
      code: 0,
      out: [
        'Status of node node-1 from the datastore (CalicoNodeStatus node-1-status, updated 2026-11-25T10:00:00Z).',
        '',
        'IPv4 BGP status',
        '+--------------+-------------------+-------+----------+-------------+',
        '| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO     |',
        '+--------------+-------------------+-------+----------+-------------+',
        '| 10.0.0.2     | node-to-node mesh | up    | 09:58:01 | Established |',
        '| 10.0.0.3     | global            | start | 09:59:30 | Active      |',
        '+--------------+-------------------+-------+----------+-------------+',
        '',
        'IPv6 BGP status',
        'No IPv6 peers found.',
      ].join('\n'),
      err: '',
    });
    expect(JSON.parse((await ctl(['node', 'status', '--node', 'node-1', '-o', 'json'])).out).kind).toBe('CalicoNodeStatus');
    expect(await ctl(['node', 'status', '--node', 'node-7'])).toEqual({
      code: 1, out: '', err: 'Error: no status for node node-7 in the datastore (no CalicoNodeStatus has spec.node node-7; is tartan-node running there and publishing status?)',
    });
  });

  it('prints the bash completion script', async () => {
    const r = await ctl(['completion', 'bash']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('complete -o default -F _tartanctl tartanctl');
  });
});
