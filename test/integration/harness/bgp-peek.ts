/**
 * Just enough BGP decoding to label captured messages and work out what a
 * session negotiated (4-octet AS, ADD-PATH per direction). Deliberately
 * independent of src/bgp/wire: fixtures made with the codec under test could
 * not catch its bugs.
 */

const TYPE_NAMES: Record<number, string> = { 1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 4: 'KEEPALIVE', 5: 'ROUTE-REFRESH' };

export interface OpenFacts {
  asn: number;
  fourOctetAsCap: boolean;
  /** "afi/safi" → send/receive mode (1 receive, 2 send, 3 both) from capability 69. */
  addPath: Map<string, number>;
  capabilityCodes: number[];
}

export function familyName(afi: number, safi: number): string {
  if (safi === 1 && afi === 1) return 'ipv4-unicast';
  if (safi === 1 && afi === 2) return 'ipv6-unicast';
  return `afi${afi}/safi${safi}`;
}

export function messageType(m: Buffer): number {
  return m[18] ?? 0;
}

export function parseOpen(m: Buffer): OpenFacts {
  const facts: OpenFacts = { asn: m.readUInt16BE(20), fourOctetAsCap: false, addPath: new Map(), capabilityCodes: [] };
  const optLen = m[28] ?? 0;
  let off = 29;
  const end = 29 + optLen;
  while (off < end) {
    const ptype = m[off] ?? 0;
    const plen = m[off + 1] ?? 0;
    if (ptype === 2) {
      let c = off + 2;
      while (c < off + 2 + plen) {
        const code = m[c] ?? 0;
        const clen = m[c + 1] ?? 0;
        facts.capabilityCodes.push(code);
        if (code === 65) {
          facts.fourOctetAsCap = true;
          facts.asn = m.readUInt32BE(c + 2);
        }
        if (code === 69) {
          for (let a = c + 2; a + 4 <= c + 2 + clen; a += 4) {
            facts.addPath.set(familyName(m.readUInt16BE(a), m[a + 2] ?? 0), m[a + 3] ?? 0);
          }
        }
        c += 2 + clen;
      }
    }
    off += 2 + plen;
  }
  return facts;
}

/** Families for which `sender` may send ADD-PATH NLRI to `receiver` (RFC 7911 §4). */
export function addPathFamilies(sender: OpenFacts, receiver: OpenFacts): string[] {
  const out: string[] = [];
  for (const [fam, mode] of sender.addPath) {
    const peer = receiver.addPath.get(fam) ?? 0;
    if ((mode & 2) !== 0 && (peer & 1) !== 0) out.push(fam);
  }
  return out.sort();
}

const ATTR_NAMES: Record<number, string> = {
  1: 'ORIGIN',
  2: 'AS_PATH',
  3: 'NEXT_HOP',
  4: 'MED',
  5: 'LOCAL_PREF',
  6: 'ATOMIC_AGGREGATE',
  7: 'AGGREGATOR',
  8: 'COMMUNITIES',
  9: 'ORIGINATOR_ID',
  10: 'CLUSTER_LIST',
  14: 'MP_REACH_NLRI',
  15: 'MP_UNREACH_NLRI',
  16: 'EXTENDED_COMMUNITIES',
  17: 'AS4_PATH',
  18: 'AS4_AGGREGATOR',
  32: 'LARGE_COMMUNITY',
};

const NOTIFY_CODES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'FSM Error',
  6: 'Cease',
};

function describeUpdate(m: Buffer): string {
  const wlen = m.readUInt16BE(19);
  const alenOff = 21 + wlen;
  const alen = m.readUInt16BE(alenOff);
  const nlriLen = m.length - alenOff - 2 - alen;
  if (wlen === 0 && alen === 0 && nlriLen === 0) return 'UPDATE End-of-RIB ipv4-unicast';
  const attrs: number[] = [];
  let mpFamily = '';
  let mpReachEmpty = false;
  let mpUnreachEmpty = false;
  let off = alenOff + 2;
  while (off < alenOff + 2 + alen) {
    const flags = m[off] ?? 0;
    const type = m[off + 1] ?? 0;
    const ext = (flags & 0x10) !== 0;
    const len = ext ? m.readUInt16BE(off + 2) : (m[off + 2] ?? 0);
    const val = off + (ext ? 4 : 3);
    attrs.push(type);
    if (type === 14 || type === 15) {
      mpFamily = familyName(m.readUInt16BE(val), m[val + 2] ?? 0);
      if (type === 15) mpUnreachEmpty = len === 3;
    }
    if (type === 14) {
      const nhLen = m[val + 3] ?? 0;
      mpReachEmpty = len <= 3 + 1 + nhLen + 1;
    }
    off = val + len;
  }
  if (attrs.length === 1 && attrs[0] === 15 && mpUnreachEmpty && wlen === 0 && nlriLen === 0) return `UPDATE End-of-RIB ${mpFamily}`;
  const parts: string[] = [];
  const hasV4Withdraw = wlen > 0;
  const hasMpWithdraw = attrs.includes(15) && !mpUnreachEmpty;
  const announce = nlriLen > 0 || (attrs.includes(14) && !mpReachEmpty);
  if (announce) parts.push(`announce ${nlriLen > 0 ? 'ipv4-unicast' : mpFamily}`);
  if (hasV4Withdraw) parts.push('withdraw ipv4-unicast');
  if (hasMpWithdraw) parts.push(`withdraw ${mpFamily}`);
  const attrNames = attrs.filter((t) => t !== 14 && t !== 15).map((t) => ATTR_NAMES[t] ?? `ATTR${t}`);
  return `UPDATE ${parts.join(' + ')}${attrNames.length ? ` [${attrNames.join(' ')}]` : ''}`;
}

function describeNotification(m: Buffer): string {
  const code = m[19] ?? 0;
  const sub = m[20] ?? 0;
  let s = `NOTIFICATION ${NOTIFY_CODES[code] ?? `code ${code}`} subcode ${sub}`;
  // RFC 8203/9003 shutdown communication: Cease/2 or Cease/4 with a length-prefixed UTF-8 text.
  if (code === 6 && (sub === 2 || sub === 4) && m.length > 21) {
    const n = m[21] ?? 0;
    s += ` with shutdown communication "${m.subarray(22, 22 + n).toString('utf8')}"`;
  }
  return s;
}

function describeRouteRefresh(m: Buffer): string {
  const fam = familyName(m.readUInt16BE(19), m[22] ?? 0);
  const sub = m[21] ?? 0;
  return `ROUTE-REFRESH ${fam}${sub === 1 ? ' BoRR' : sub === 2 ? ' EoRR' : ''}`;
}

export function describeMessage(m: Buffer): string {
  const t = messageType(m);
  switch (t) {
    case 1: {
      const o = parseOpen(m);
      return `OPEN${o.fourOctetAsCap ? '' : ' without 4-octet AS capability'}${o.addPath.size ? ' with ADD-PATH' : ''}${
        m[28] === 0 ? ' without optional parameters' : ''
      }`;
    }
    case 2:
      return describeUpdate(m);
    case 3:
      return describeNotification(m);
    case 5:
      return describeRouteRefresh(m);
    default:
      return TYPE_NAMES[t] ?? `type ${t}`;
  }
}
