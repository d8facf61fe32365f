/** The printed table: medians per daemon and N, with ratios against BIRD. */
import type { Summary } from './main';

function fmtS(s: number | undefined, status: string): string {
  if (s === undefined) return status || '-';
  return s < 10 ? `${s.toFixed(3)}` : `${s.toFixed(1)}`;
}

function ratio(x: number | undefined, base: number | undefined): string {
  if (x === undefined || base === undefined || base <= 0) return '';
  const r = x / base;
  return r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(1)}x`;
}

function pad(cells: string[][]): string {
  const w = cells[0]?.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length))) ?? [];
  return cells.map((r) => `| ${r.map((c, i) => c.padEnd(w[i] ?? 0)).join(' | ')} |`).join('\n');
}

export function renderTable(summary: Summary[], doc: { machine: Record<string, unknown>; versions: Record<string, string>; startedAt: string }): string {
  const head = [
    'daemon',
    'N',
    'RIB s',
    'vs BIRD',
    'res ms',
    'peak RSS MB',
    'B/route',
    'vs BIRD',
    'FIB s',
    'vs BIRD',
    'res ms',
    'FIB-run B/route',
    'sender write s',
  ];
  const rows: string[][] = [head, head.map((h) => '-'.repeat(Math.max(3, h.length)))];
  for (const s of summary) {
    const bird = summary.find((x) => x.daemon === 'bird' && x.n === s.n);
    const isBird = s.daemon === 'bird';
    const flag = s.injectionRatio !== undefined && s.injectionRatio > 0.5 ? ' (!)' : '';
    rows.push([
      s.daemon === 'sink' ? 'sink (floor)' : s.daemon,
      s.n >= 1e6 ? `${s.n / 1e6}M` : `${s.n / 1e3}k`,
      s.daemon === 'ip-batch' ? '-' : `${fmtS(s.ribS, s.ribStatus)}${flag}`,
      isBird ? '1.0x' : s.daemon === 'ip-batch' || s.daemon === 'sink' ? '' : ratio(s.ribS, bird?.ribS),
      s.ribResolutionMs !== undefined ? s.ribResolutionMs.toFixed(0) : '',
      s.peakRssMb !== undefined && s.daemon !== 'sink' ? s.peakRssMb.toFixed(1) : '-',
      s.bytesPerRoute !== undefined && s.daemon !== 'sink' ? s.bytesPerRoute.toFixed(0) : '-',
      isBird && s.bytesPerRoute !== undefined ? '1.0x' : s.daemon === 'sink' ? '' : ratio(s.bytesPerRoute, bird?.bytesPerRoute),
      fmtS(s.fibS, s.fibStatus),
      isBird && s.fibS !== undefined ? '1.0x' : ratio(s.fibS, bird?.fibS),
      s.fibResolutionMs !== undefined && s.daemon !== 'ip-batch' ? s.fibResolutionMs.toFixed(0) : '',
      s.fibBytesPerRoute !== undefined ? s.fibBytesPerRoute.toFixed(0) : '-',
      s.senderWriteS !== undefined ? s.senderWriteS.toFixed(3) : '-',
    ]);
  }
  const m = doc.machine;
  const lines = [
    `bench/rib  ${doc.startedAt}  ${String(m['nproc'])} x ${String(m['model'])}, ${String(m['memTotalMb'])} MB, load ${(m['loadavg'] as number[]).map((x) => x.toFixed(2)).join(' ')}`,
    `versions: ${Object.entries(doc.versions)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ')}`,
    `runs per cell: ${summary[0]?.runs ?? 0} (medians). Times from the sender's Established; "res ms" = poll bracket (first poll seeing N minus the previous poll).`,
    'B/route = (VmHWM - idle VmRSS) / N of bgpd | bird | gobgpd | tartan-node (RIB run); FIB-run B/route adds zebra for FRR.',
    'sink (floor) = a do-nothing BGP receiver: Established -> End-of-RIB arrival, the time the sender + TCP alone take (exact, not polled).',
    '(!) = RIB time < 2 x the sink floor: that cell measured the sender/TCP as much as the daemon (bgperf2 warning).',
    'sender write s = Established -> last byte accepted by the sender\'s kernel socket (TCP buffers absorb MBs: a lower bound, not delivery).',
    '',
    pad(rows),
  ];
  return lines.join('\n');
}
