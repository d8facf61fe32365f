/**
 * Deployment files, checked without a Docker engine or a booted systemd:
 * the unit with `systemd-analyze verify`, docker-compose.yml against the
 * Compose Specification JSON schema (the copy the `dclint` npm package
 * ships), every file the compose file and the Dockerfile reference, and the
 * node configs the compose services mount through the daemon's own parser.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import Ajv from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../../src/config';
import { parseResources } from '../../../src/datastore';

const REPO = join(__dirname, '../../..');

function exec(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(file, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

function requireTool(tool: string, pkg: string): void {
  if (!['/usr/bin', '/bin', '/usr/sbin', '/usr/local/bin'].some((d) => existsSync(join(d, tool)))) {
    throw new Error(`${tool} is not installed: apt-get install ${pkg} (scripts/setup.sh)`);
  }
}

/** Key=value lines of a unit file section (later values append, as for systemd lists). */
function unitSection(text: string, section: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || line === '') continue;
    const m = /^\[(.+)\]$/.exec(line);
    if (m) {
      cur = m[1]!;
      continue;
    }
    if (cur !== section) continue;
    const eq = line.indexOf('=');
    const k = line.slice(0, eq);
    out.set(k, [...(out.get(k) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

describe('config/tartan-node.service', () => {
  const unit = readFileSync(join(REPO, 'config/tartan-node.service'), 'utf8');

  it('passes systemd-analyze verify', async () => {
    requireTool('systemd-analyze', 'systemd');
    const dir = mkdtempSync(join(tmpdir(), 'tartan-unit-'));
    try {
      copyFileSync(join(REPO, 'config/tartan-node.service'), join(dir, 'tartan-node.service'));
      const r = await exec('systemd-analyze', ['verify', '--man=no', join(dir, 'tartan-node.service')]);
      // verify prints nothing and exits 0 for a clean unit; any warning about our unit is a failure.
      expect({ code: r.code, output: `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('tartan-node')).join('\n') }).toEqual({ code: 0, output: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is a notify service with a watchdog, restarts on failure, and runs with least privilege', () => {
    const s = unitSection(unit, 'Service');
    const one = (k: string): string | undefined => s.get(k)?.at(-1);
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('all');
    expect(one('WatchdogSec')).toMatch(/^\d+s$/);
    expect(one('Restart')).toBe('on-failure');
    expect(one('EnvironmentFile')).toBe('-/etc/default/tartan-node');
    expect(one('ExecStart')).toBe('/usr/bin/node --max-semi-space-size=2 /opt/tartan/dist/daemon/main.js --config /etc/tartan/tartan-node.yaml');
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one('KillSignal')).toBe('SIGTERM');
    const caps = ['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'];
    expect(one('CapabilityBoundingSet')?.split(/\s+/).sort()).toEqual(caps);
    expect(one('AmbientCapabilities')?.split(/\s+/).sort()).toEqual(caps);
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ReadWritePaths')?.split(/\s+/)).toEqual(['/run/tartan', '/var/lib/tartan']);
    expect(one('ProtectHome')).toBe('yes');
    expect(one('PrivateTmp')).toBe('yes');
    expect(unitSection(unit, 'Install').get('WantedBy')).toEqual(['multi-user.target']);
  });
});

describe('docker-compose.yml', () => {
  const file = join(REPO, 'docker-compose.yml');
  const compose = parse(readFileSync(file, 'utf8'), { merge: true }) as {
    services: Record<string, Record<string, unknown>>;
    volumes?: Record<string, unknown>;
  };

  it('is valid against the Compose Specification schema', () => {
    const schemaFile = join(REPO, 'node_modules/dclint/schemas/compose.schema.json');
    if (!existsSync(schemaFile)) throw new Error(`${schemaFile} is missing: npm ci (dclint is a devDependency)`);
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as object;
    const ajv = new Ajv({ strict: false, allErrors: true, logger: false, validateSchema: false });
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    expect((validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
    expect(ok).toBe(true);
    // The validator does catch mistakes.
    expect(validate({ services: { a: { image: 'x', cap_add: 'NET_ADMIN', colour: 1 } } })).toBe(false);
  });

  it('runs a 3-member etcd, a route reflector and three nodes with health checks on :9099', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['etcd1', 'etcd2', 'etcd3', 'node-1', 'node-2', 'node-3', 'rr-1', 'tartan-init', 'tartan-promote-rr']);
    for (const n of ['etcd1', 'etcd2', 'etcd3']) {
      const env = s[n]!['environment'] as Record<string, string>;
      expect(env['ETCD_INITIAL_CLUSTER']).toBe('etcd1=http://etcd1:2380,etcd2=http://etcd2:2380,etcd3=http://etcd3:2380');
      expect(env['ETCD_NAME']).toBe(n);
    }
    for (const n of ['rr-1', 'node-1', 'node-2', 'node-3']) {
      const svc = s[n]!;
      expect(JSON.stringify(svc['healthcheck'])).toContain('http://127.0.0.1:9099/readiness');
      expect(svc['cap_add']).toEqual(['NET_ADMIN', 'NET_RAW']);
      expect((svc['depends_on'] as Record<string, { condition: string }>)['tartan-init']).toEqual({ condition: 'service_completed_successfully' });
      expect((svc['volumes'] as string[]).some((v) => v.endsWith(':/etc/tartan/tartan-node.yaml:ro'))).toBe(true);
    }
  });

  it('references only files that exist', () => {
    const base = dirname(file);
    const missing: string[] = [];
    const check = (p: string): void => {
      if (!existsSync(isAbsolute(p) ? p : resolve(base, p))) missing.push(p);
    };
    for (const [name, svc] of Object.entries(compose.services)) {
      const build = svc['build'] as { context?: string; dockerfile?: string } | string | undefined;
      if (typeof build === 'string') check(build);
      else if (build) {
        check(build.context ?? '.');
        check(join(build.context ?? '.', build.dockerfile ?? 'Dockerfile'));
      }
      for (const v of (svc['volumes'] as string[] | undefined) ?? []) {
        const src = v.split(':')[0]!;
        if (src.startsWith('.') || src.startsWith('/')) check(src);
        else if (!compose.volumes || !(src in compose.volumes)) missing.push(`${name}: volume ${src} is not declared`);
      }
      for (const e of ([] as string[]).concat((svc['env_file'] as string[] | string | undefined) ?? [])) check(e);
    }
    expect(missing).toEqual([]);
  });

  it("uses the demo's own files: one node config for every node, the demo's cluster resources and migration commands", () => {
    const demo = readFileSync(join(REPO, 'scripts/demo.sh'), 'utf8');
    const nodeConfig = 'deploy/demo/tartan-node.yaml';
    expect(demo).toContain(`ln -sfn "$REPO/${nodeConfig}" "$STATE/$n/tartan-node.yaml"`);
    expect(demo).toContain('--config "$STATE/$n/tartan-node.yaml"');
    expect(demo).toContain('ctl apply -f deploy/demo/cluster.yaml');
    for (const n of ['rr-1', 'node-1', 'node-2', 'node-3']) {
      const svc = compose.services[n]!;
      expect(svc['volumes']).toEqual([`./${nodeConfig}:/etc/tartan/tartan-node.yaml:ro`]);
      // The file through the daemon's own parser, with the service's environment.
      const env = svc['environment'] as Record<string, string>;
      const cfg = parseConfig(readFileSync(join(REPO, nodeConfig), 'utf8'), nodeConfig, env);
      expect(cfg.nodeName).toBe(n);
      expect(cfg.ipv4Address).toBe(env['IP']);
      expect(cfg.datastore?.endpoints).toEqual(['http://etcd1:2379', 'http://etcd2:2379', 'http://etcd3:2379']);
      expect(cfg.dataplane.enabled).toBe(n !== 'rr-1');
    }
    const init = compose.services['tartan-init']!;
    expect(init['volumes']).toEqual(['./deploy/demo/cluster.yaml:/etc/tartan/cluster.yaml:ro']);
    const resources = parseResources(readFileSync(join(REPO, 'deploy/demo/cluster.yaml'), 'utf8'));
    expect(resources.map((r) => `${r.kind}/${r.metadata.name}`)).toEqual(['BGPConfiguration/default', 'BGPPeer/peer-to-rrs', 'IPPool/demo-pool', 'Profile/kns.demo']);
    // The route-reflector migration: the same tartanctl commands as the demo, in the same order.
    const promote = (compose.services['tartan-promote-rr']!['command'] as string[]).join(' ');
    const steps = ['label node rr-1 route-reflector=true', `patch node rr-1 -p '{"spec":{"bgp":{"routeReflectorClusterID":"244.0.0.1"}}}'`, `patch bgpconfiguration default -p '{"spec":{"nodeToNodeMeshEnabled":false}}'`];
    let at = -1;
    for (const step of steps) {
      const i = promote.indexOf(step);
      expect(i).toBeGreaterThan(at);
      at = i;
    }
    expect(demo).toContain('ctl label node rr-1 route-reflector=true');
    expect(demo).toContain('RR_CLUSTER_ID=244.0.0.1');
    expect(demo).toContain(`ctl patch bgpconfiguration default -p '{"spec":{"nodeToNodeMeshEnabled":false}}'`);
    expect(parseAllDocuments(readFileSync(join(REPO, 'config/tartanctl.yaml'), 'utf8'))).toHaveLength(1);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  // Instructions with continuation lines joined.
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('builds on node:20 bookworm and installs iproute2, iptables and ipset', () => {
    expect(instructions.filter((l) => l.startsWith('FROM '))).toEqual(['FROM node:20-bookworm-slim AS build', 'FROM node:20-bookworm-slim']);
    const apt = instructions.filter((l) => l.startsWith('RUN ') && l.includes('apt-get install')).at(-1)!;
    for (const pkg of ['iproute2', 'iptables', 'ipset']) expect(apt.split(/\s+/)).toContain(pkg);
    expect(instructions).toContain('ENTRYPOINT ["node", "--max-semi-space-size=2", "/opt/tartan/dist/daemon/main.js"]');
    expect(instructions.find((l) => l.startsWith('HEALTHCHECK'))).toContain('http://127.0.0.1:9099/liveness');
  });

  it('copies only files that exist', () => {
    const sources = instructions
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((s) => !existsSync(join(REPO, s)))).toEqual([]);
  });
});
