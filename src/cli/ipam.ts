/**
 * `tartanctl ipam show|check|release` (calicoctl `commands/ipam/*.go`).
 * Data comes from src/ipam; this file only reads blocks for the per-IP views
 * and renders.
 */
import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import type { DatastoreConfig } from '../datastore';
import { Ipam, ordinalToIp, type IpamCheckReport, type IpamProblem, type IpamShow } from '../ipam';
import { canonicalIp, ipInCidr, ipToOrdinal } from '../ipam/blocks';
import { IpamStore } from '../ipam/store';
import type { AllocationBlock } from '../ipam';
import { CliError } from './errors';
import { withDatastore } from './datastore-session';
import { boxTable } from './table';

const pct = (n: number, total: number): string => `${n} (${total > 0 ? Math.round((100 * n) / total) : 0}%)`;

/**
 * The `ipam show` table. Calico's newer releases add an IPS RESERVED column
 * for IPReservation resources; Tartan has no reservations, so it is left out
 * rather than shown as a column of zeros.
 */
export function renderIpamShow(show: IpamShow, opts: { showBlocks?: boolean } = {}): string {
  const rows: string[][] = [];
  for (const p of show.pools) {
    rows.push(['IP Pool', p.cidr, String(p.total), pct(p.inUse, p.total), pct(p.free, p.total)]);
    if (opts.showBlocks) for (const b of p.blocks) rows.push(['Block', b.cidr, String(b.total), pct(b.inUse, b.total), pct(b.free, b.total)]);
  }
  if (opts.showBlocks) {
    for (const b of show.orphanBlocks) rows.push(['Block (no pool)', b.cidr, String(b.total), pct(b.inUse, b.total), pct(b.free, b.total)]);
  }
  if (rows.length === 0) return 'No IP pools found.';
  return boxTable(['Grouping', 'CIDR', 'IPs total', 'IPs in use', 'IPs free'], rows, { align: ['left', 'left', 'right', 'right', 'right'] });
}

export interface IpInfo {
  ip: string;
  block: string;
  handleId: string | null;
  attributes: Record<string, string>;
}

/** The allocation of one address, or undefined when it is free or in no block. */
export function findIp(blocks: readonly AllocationBlock[], ip: string): IpInfo | undefined {
  for (const b of blocks) {
    if (!ipInCidr(ip, b.cidr)) continue;
    const o = ipToOrdinal(b.cidr, ip);
    const a = o === undefined ? null : b.allocations[o];
    if (a === null || a === undefined) return undefined;
    const attr = b.attributes[a];
    return { ip, block: b.cidr, handleId: attr?.handle_id ?? null, attributes: attr?.secondary ?? {} };
  }
  return undefined;
}

export function renderIpInfo(ip: string, info: IpInfo | undefined): string {
  if (!info) return `${ip} is not assigned`;
  const lines = [`IP ${ip} is in use`];
  if (info.handleId) lines.push(`Handle ID: ${info.handleId}`);
  const attrs = Object.entries(info.attributes).sort(([a], [b]) => a.localeCompare(b));
  if (attrs.length > 0) {
    lines.push('Attributes:');
    for (const [k, v] of attrs) lines.push(`  ${k}: ${v}`);
  }
  return lines.join('\n');
}

/** Addresses allocated to another node than the block's owner (`--show-borrowed`). */
export function borrowedRows(blocks: readonly AllocationBlock[]): string[][] {
  const rows: string[][] = [];
  for (const b of blocks) {
    const owner = b.affinity?.startsWith('host:') ? b.affinity.slice(5) : '';
    b.allocations.forEach((a, o) => {
      if (a === null) return;
      const sec = b.attributes[a]?.secondary ?? {};
      const node = sec['node'];
      if (node === undefined || node === owner) return;
      const allocatedTo = sec['namespace'] && sec['pod'] ? `${sec['namespace']}/${sec['pod']}` : (b.attributes[a]?.handle_id ?? '');
      rows.push([ordinalToIp(b.cidr, o), node, b.cidr, owner, sec['type'] ?? '', allocatedTo]);
    });
  }
  return rows;
}

export function renderBorrowed(rows: string[][]): string {
  if (rows.length === 0) return 'No borrowed IPs found.';
  return boxTable(['IP', 'Borrowing-node', 'Block', 'Block owner', 'Type', 'Allocated-to'], rows);
}

function problemLine(p: IpamProblem): string {
  switch (p.type) {
    case 'allocation-without-handle':
      return `  ${p.ip} in block ${p.block} is allocated to handle ${p.handleId ?? '(none)'}, which does not exist`;
    case 'handle-count-mismatch':
      return `  handle ${p.handleId} says it has ${p.handleSays} IPs in block ${p.block}, the block has ${p.blockHas}`;
    case 'handle-without-allocations':
      return `  handle ${p.handleId} lists block ${p.block}, which holds none of its IPs`;
    case 'block-outside-pools':
      return `  block ${p.block} is in no IP pool`;
    case 'block-without-affinity':
      return `  block ${p.block} belongs to ${p.node}, which has no affinity for it`;
    case 'affinity-without-block':
      return `  ${p.node} has an affinity for block ${p.block}, which does not exist`;
    case 'affinity-mismatch':
      return `  ${p.node} has an affinity for block ${p.block}, whose affinity is ${p.blockAffinity ?? '(none)'}`;
    case 'block-of-unknown-node':
      return `  block ${p.block} belongs to ${p.node}, which is not a Node in the datastore`;
    case 'corrupt-value':
      return `  ${p.key}: ${p.reason}`;
  }
}

const SECTIONS: Array<{ title: string; types: Array<IpamProblem['type']>; found: (n: number) => string }> = [
  { title: 'Scanning for IPs with missing handle...', types: ['allocation-without-handle'], found: (n) => `Found ${n} IPs whose handle does not exist.` },
  {
    title: 'Scanning for IPAM handles with no matching IPs...',
    types: ['handle-without-allocations', 'handle-count-mismatch'],
    found: (n) => `Found ${n} handles with no matching IPs or a wrong count.`,
  },
  {
    title: 'Checking block affinities...',
    types: ['block-without-affinity', 'affinity-without-block', 'affinity-mismatch', 'block-of-unknown-node', 'block-outside-pools'],
    found: (n) => `Found ${n} block and affinity problems.`,
  },
  { title: 'Looking for unreadable IPAM values...', types: ['corrupt-value'], found: (n) => `Found ${n} corrupt values.` },
];

/** The `ipam check` narrative. */
export function renderIpamCheck(r: IpamCheckReport): string {
  const out = ['Checking IPAM for inconsistencies...', '', 'Loading all IPAM blocks...', `Found ${r.blocks} IPAM blocks.`, `IPAM blocks record ${r.allocations} allocations.`];
  out.push(`Found ${r.handles} IPAM handles.`);
  for (const s of SECTIONS) {
    const mine = r.problems.filter((p) => s.types.includes(p.type));
    out.push('', s.title, s.found(mine.length), ...mine.map(problemLine));
  }
  out.push('', `Check complete; found ${r.problems.length} problems.`);
  return out.join('\n');
}

async function allBlocks(store: IpamStore): Promise<AllocationBlock[]> {
  return [...(await store.blocks(4)), ...(await store.blocks(6))].map((b) => b.value);
}

export function addIpamCommands(program: Command, ctx: { out: (s: string) => void; datastore: (cmd: Command) => DatastoreConfig }): void {
  const ipam = program.command('ipam').description('IP address management: show, check, release').exitOverride();
  ipam
    .command('show')
    .description('show IP pool usage, one address, or borrowed addresses')
    .option('--show-blocks', 'also show each block of the pools')
    .option('--ip <ip>', 'show whether this address is in use, and by what')
    .option('--show-borrowed', 'list addresses used by another node than the block owner')
    .exitOverride()
    .action(async (opts: { showBlocks?: boolean; ip?: string; showBorrowed?: boolean }, cmd: Command) => {
      if (opts.ip !== undefined) {
        const ip = canonicalIp(opts.ip);
        if (!ip) throw new CliError(`${JSON.stringify(opts.ip)} is not an IP address`);
        const info = await withDatastore(ctx.datastore(cmd), async (ds) => findIp(await allBlocks(new IpamStore(ds.kv, () => undefined)), ip));
        ctx.out(renderIpInfo(ip, info));
        return;
      }
      if (opts.showBorrowed) {
        const rows = await withDatastore(ctx.datastore(cmd), async (ds) => borrowedRows(await allBlocks(new IpamStore(ds.kv, () => undefined))));
        ctx.out(renderBorrowed(rows));
        return;
      }
      const show = await withDatastore(ctx.datastore(cmd), (ds) => new Ipam(ds).ipamShow());
      ctx.out(renderIpamShow(show, { showBlocks: opts.showBlocks }));
    });
  ipam
    .command('check')
    .description('check blocks, handles and affinities for inconsistencies')
    .option('-o, --output <file>', 'also write the report as JSON to this file')
    .exitOverride()
    .action(async (opts: { output?: string }, cmd: Command) => {
      const report = await withDatastore(ctx.datastore(cmd), (ds) => new Ipam(ds).checkIpam());
      ctx.out(renderIpamCheck(report));
      if (opts.output !== undefined) {
        writeFileSync(opts.output, `${JSON.stringify(report, null, 2)}\n`);
        ctx.out(`Wrote the report to ${opts.output}`);
      }
    });
  ipam
    .command('release')
    .description('release an allocated address (e.g. one leaked by a removed workload)')
    .requiredOption('--ip <ip>', 'the address to release')
    .exitOverride()
    .action(async (opts: { ip: string }, cmd: Command) => {
      const ip = canonicalIp(opts.ip);
      if (!ip) throw new CliError(`${JSON.stringify(opts.ip)} is not an IP address`);
      const released = await withDatastore(ctx.datastore(cmd), (ds) => new Ipam(ds).releaseIPs([ip]));
      if (released.length === 0) throw new CliError(`IP address ${ip} is not assigned`);
      ctx.out(`Successfully released IP address ${ip}`);
    });
}
