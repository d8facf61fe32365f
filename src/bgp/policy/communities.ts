import type { LargeCommunity } from '../wire/types';

/** Well-known communities, RFC 1997 §"Well-known Communities" and RFC 3765. */
export const WELL_KNOWN_COMMUNITIES: Readonly<Record<string, number>> = Object.freeze({
  'no-export': 0xffffff01,
  'no-advertise': 0xffffff02,
  'no-export-subconfed': 0xffffff03,
  'no-peer': 0xffffff04,
});

const WELL_KNOWN_NAMES = new Map(Object.entries(WELL_KNOWN_COMMUNITIES).map(([k, v]) => [v, k]));

const U16 = /^(\d{1,5})$/;
const U32 = /^(\d{1,10})$/;

/** "65000:100" or a well-known name → 32-bit value; null if malformed. */
export function parseCommunity(text: string): number | null {
  const known = WELL_KNOWN_COMMUNITIES[text.toLowerCase()];
  if (known !== undefined) return known;
  const parts = text.split(':');
  if (parts.length !== 2 || !U16.test(parts[0]!) || !U16.test(parts[1]!)) return null;
  const hi = Number(parts[0]);
  const lo = Number(parts[1]);
  if (hi > 0xffff || lo > 0xffff) return null;
  return hi * 0x10000 + lo;
}

/** 32-bit value → "65000:100" (well-known values by name, as birdc and vtysh print them). */
export function formatCommunity(value: number): string {
  return WELL_KNOWN_NAMES.get(value) ?? `${Math.floor(value / 0x10000)}:${value % 0x10000}`;
}

/** "global:local1:local2" → triple; null if malformed (RFC 8092 §3: three 4-octet fields). */
export function parseLargeCommunity(text: string): LargeCommunity | null {
  const parts = text.split(':');
  if (parts.length !== 3 || !parts.every((p) => U32.test(p))) return null;
  const nums = parts.map(Number);
  if (nums.some((n) => n > 0xffffffff)) return null;
  return [nums[0]!, nums[1]!, nums[2]!];
}

export function formatLargeCommunity(c: LargeCommunity): string {
  return `${c[0]}:${c[1]}:${c[2]}`;
}
