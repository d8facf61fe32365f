export type Align = 'left' | 'right';

/**
 * The boxed table calicoctl prints for `node status` and `ipam show`
 * (olekukonko/tablewriter style): `+---+` borders, upper-case centred
 * headings, cells left-aligned unless `align` says right.
 */
export function boxTable(headings: string[], rows: string[][], opts: { align?: Align[] } = {}): string {
  const widths = headings.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const border = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const cell = (c: string, i: number): string => (opts.align?.[i] === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!));
  const line = (cells: string[], centre: boolean): string =>
    `|${cells.map((c, i) => ` ${centre ? centreText(c, widths[i]!) : cell(c, i)} `).join('|')}|`;
  return [border, line(headings.map((h) => h.toUpperCase()), true), border, ...rows.map((r) => line(r, false)), border].join('\n');
}

function centreText(text: string, width: number): string {
  const total = width - text.length;
  const left = Math.floor(total / 2);
  return ' '.repeat(left) + text + ' '.repeat(total - left);
}

/**
 * calicoctl's `get` layout (Go tabwriter, min width 5, padding 3): columns
 * separated by at least three spaces, upper-case headings.
 */
export function plainTable(headings: string[], rows: string[][]): string {
  const all = [headings.map((h) => h.toUpperCase()), ...rows];
  // tabwriter: a cell is max(minwidth, text + padding) wide.
  const widths = headings.map((_, i) => Math.max(5, ...all.map((r) => (r[i] ?? '').length + 3)));
  return all
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('').trimEnd())
    .join('\n');
}
