import type { AsPathSegment } from '../wire/types';
import type { RouteAttributesView } from '../../control/types';
import { formatCommunity, formatLargeCommunity } from '../policy/communities';
import type { RouteAttributes } from './route-attributes';

const ORIGIN_NAMES = ['IGP', 'EGP', 'Incomplete'];

/** "65001 65002 {65003 65004}" — how birdc and vtysh print an AS_PATH. */
export function formatAsPath(segments: readonly AsPathSegment[]): string {
  return segments
    .map((s) => {
      const asns = s.asns.join(' ');
      switch (s.type) {
        case 'sequence':
          return asns;
        case 'set':
          return `{${asns}}`;
        case 'confed-sequence':
          return `(${asns})`;
        case 'confed-set':
          return `[${asns}]`;
      }
      return asns;
    })
    .join(' ');
}

export function attributesView(a: RouteAttributes): RouteAttributesView {
  const v: RouteAttributesView = {};
  if (a.origin !== undefined) v.origin = ORIGIN_NAMES[a.origin] ?? String(a.origin);
  if (a.asPath !== undefined) v.asPath = formatAsPath(a.asPath);
  if (a.nextHops.length) v.nextHop = [...a.nextHops];
  if (a.med !== undefined) v.med = a.med;
  if (a.localPref !== undefined) v.localPref = a.localPref;
  if (a.atomicAggregate) v.atomicAggregate = true;
  if (a.aggregator) v.aggregator = `${a.aggregator.address} AS${a.aggregator.asn}`;
  if (a.communities?.length) v.communities = a.communities.map(formatCommunity);
  if (a.largeCommunities?.length) v.largeCommunities = a.largeCommunities.map(formatLargeCommunity);
  if (a.extendedCommunities?.length) v.extendedCommunities = a.extendedCommunities.map((b) => b.toString('hex'));
  if (a.originatorId) v.originatorId = a.originatorId;
  if (a.clusterList?.length) v.clusterList = [...a.clusterList];
  if (a.unknown?.length) v.unknown = a.unknown.map((u) => `attr${u.typeCode}: flags 0x${u.flags.toString(16)} ${u.value.toString('hex')}`);
  return v;
}
