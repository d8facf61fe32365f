/**
 * Two separate OS processes allocate 500 addresses each from one pool that
 * barely fits them (1024 addresses, 16 blocks of 64): they race to claim
 * blocks and, at the end, borrow from each other's blocks. No address may be
 * handed out twice, and `ipam check` must find blocks and handles consistent.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Etcd3 } from 'etcd3';
import { Datastore } from '../../../src/datastore';
import { Ipam, HANDLE_PREFIX } from '../../../src/ipam';
import { startEtcd, type EtcdServer } from '../datastore/etcd-server';

const PER_PROCESS = 500;

/** A require hook that transpiles .ts with the project's typescript (no type check; tsc covers that). */
const LOADER = `
const ts = require(${JSON.stringify(require.resolve('typescript'))});
const fs = require('fs');
require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: filename,
  }).outputText;
  module._compile(out, filename);
};
// Drop the script from argv so it sees its own arguments at argv.slice(2).
const script = process.argv.splice(2, 1)[0];
require(script);
`;

interface WorkerResult {
  ok: boolean;
  error?: string;
  allocations: Array<{ handle: string; ip: string }>;
}

function runWorker(loader: string, endpoint: string, node: string, prefix: string): Promise<WorkerResult> {
  return new Promise((resolvePromise, reject) => {
    const worker = resolve(__dirname, 'alloc-worker.ts');
    const child = spawn(process.execPath, [loader, worker, endpoint, node, String(PER_PROCESS), prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolvePromise(JSON.parse(line) as WorkerResult);
      } catch {
        reject(new Error(`worker ${node} exited ${code}: ${err || out}`));
      }
    });
  });
}

describe('IPAM: two allocator processes racing on one pool', () => {
  let etcd: EtcdServer;
  let dir: string;

  beforeAll(async () => {
    etcd = await startEtcd();
    dir = mkdtempSync(join(tmpdir(), 'tartan-ipam-race-'));
  });
  afterAll(async () => {
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('hands out 1000 distinct addresses with every handle recorded and a clean ipam check', async () => {
    const ds = Datastore.connect({ endpoints: [etcd.endpoint] });
    try {
      await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'race' }, spec: { cidr: '10.99.0.0/22', blockSize: 26 } });
      const loader = join(dir, 'ts-loader.js');
      writeFileSync(loader, LOADER);
      const [a, b] = await Promise.all([
        runWorker(loader, etcd.endpoint, 'node-a', 'a'),
        runWorker(loader, etcd.endpoint, 'node-b', 'b'),
      ]);
      expect(a.error).toBeUndefined();
      expect(b.error).toBeUndefined();
      const all = [...a.allocations, ...b.allocations];
      expect(all).toHaveLength(2 * PER_PROCESS);
      // No duplicates.
      expect(new Set(all.map((x) => x.ip)).size).toBe(2 * PER_PROCESS);
      expect(all.every((x) => /^10\.99\.[0-3]\.\d+$/.test(x.ip))).toBe(true);

      // Every handle recorded, pointing at the block that holds its address.
      const raw = new Etcd3({ hosts: etcd.endpoint });
      try {
        const handles = await raw.getAll().prefix(HANDLE_PREFIX).keys();
        expect(handles.sort()).toEqual(all.map((x) => `${HANDLE_PREFIX}${x.handle}`).sort());
      } finally {
        raw.close();
      }

      const ipam = new Ipam(ds);
      const report = await ipam.checkIpam();
      expect(report.problems).toEqual([]);
      expect(report.allocations).toBe(2 * PER_PROCESS);
      expect(report.handles).toBe(2 * PER_PROCESS);
      const show = await ipam.ipamShow();
      expect(show.pools[0]).toMatchObject({ name: 'race', total: 1024, inUse: 1000, free: 24 });
      const owners = new Set(show.pools[0]?.blocks.map((bl) => bl.node));
      expect(owners).toEqual(new Set(['node-a', 'node-b']));
    } finally {
      ds.close();
    }
  });
});
