import { parseOutputFormat, renderObjects, renderTable, columnsOf } from '../../../src/cli/printer';
import { plainTable } from '../../../src/cli/table';
import { UsageError } from '../../../src/cli/errors';
import type { Resource } from '../../../src/datastore';

const ctx = { defaultAsNumber: 64512 };
const peer = (name: string, spec: Record<string, unknown>): Resource =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name }, spec }) as unknown as Resource;
const node = (name: string, bgp?: Record<string, unknown>): Resource =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name }, spec: bgp ? { bgp } : {} }) as unknown as Resource;

describe('tartanctl get output', () => {
  it('lays tables out like Go tabwriter (min width 5, padding 3)', () => {
    expect(plainTable(['name', 'nat'], [['a', 'true'], ['default-ipv4-ippool', 'false']])).toBe(
      ['NAME                  NAT', 'a                     true', 'default-ipv4-ippool   false'].join('\n'),
    );
    // A short column is max(5, text + 3) wide.
    expect(plainTable(['a', 'b'], [['x', 'y']])).toBe('A    B\nx    y');
  });

  it('prints BGPPeer NODE as (global), the node, or the node selector', () => {
    const text = renderTable('BGPPeer', [peer('g', { peerIP: '10.0.0.1', asNumber: 64512 }), peer('n', { peerIP: '10.0.0.2', asNumber: 65000, node: 'node-1' }), peer('s', { peerIP: '10.0.0.3', asNumber: 1, nodeSelector: "rack == 'a'" })], { type: 'ps' }, ctx);
    expect(text).toBe(
      ['NAME   PEERIP     NODE          ASN', 'g      10.0.0.1   (global)      64512', 'n      10.0.0.2   node-1        65000', "s      10.0.0.3   rack == 'a'   1"].join('\n'),
    );
  });

  it('shows an inherited node ASN in parentheses with -o wide', () => {
    const text = renderTable('Node', [node('a', { ipv4Address: '10.0.0.1/24' }), node('b', { asNumber: 65001, ipv6Address: '2001:db8::1/64' })], { type: 'wide' }, { defaultAsNumber: 64600 });
    expect(text.split('\n')).toEqual(['NAME   ASN       IPV4          IPV6', 'a      (64600)   10.0.0.1/24', 'b      65001                   2001:db8::1/64']);
    expect(renderTable('Node', [node('a')], { type: 'ps' }, ctx)).toBe('NAME\na');
  });

  it('has the IPPool ps and wide headings of calicoctl', () => {
    const pool = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/16', ipipMode: 'Always' } } as unknown as Resource;
    expect(renderTable('IPPool', [pool], { type: 'ps' }, ctx).split('\n')[0]).toBe('NAME   CIDR          SELECTOR');
    expect(renderTable('IPPool', [pool], { type: 'wide' }, ctx).split('\n')[0]).toMatch(/^NAME +CIDR +NAT +IPIPMODE +VXLANMODE +DISABLED +DISABLEBGPEXPORT +SELECTOR +ASSIGNMENTMODE$/);
    expect(renderTable('IPPool', [pool], { type: 'wide' }, ctx).split('\n')[1]).toMatch(/^p +10\.0\.0\.0\/16 +false +Always +Never +false +false +all\(\) +Automatic$/);
  });

  it('adds NAMESPACE first for -A', () => {
    const wep = { apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: 'w', namespace: 'prod' }, spec: { workload: 'web', node: 'n1', ipNetworks: ['10.0.0.5/32'], interfaceName: 'cali1' } } as unknown as Resource;
    expect(renderTable('WorkloadEndpoint', [wep], { type: 'ps' }, ctx, { namespaceColumn: true })).toBe(
      ['NAMESPACE   WORKLOAD   NODE   NETWORKS      INTERFACE', 'prod        web        n1     10.0.0.5/32   cali1'].join('\n'),
    );
  });

  it('selects custom columns case-insensitively and refuses unknown ones', () => {
    expect(renderTable('BGPPeer', [peer('g', { peerIP: '10.0.0.1', asNumber: 64512 })], parseOutputFormat('custom-columns=name,ASN'), ctx)).toBe('NAME   ASN\ng      64512');
    expect(() => renderTable('BGPPeer', [], parseOutputFormat('custom-columns=NAME,COLOUR'), ctx)).toThrow(new UsageError(`unknown column "COLOUR" for BGPPeer (known: ${columnsOf('BGPPeer').join(', ')})`));
    expect(() => parseOutputFormat('xml')).toThrow(UsageError);
    expect(() => parseOutputFormat('custom-columns=')).toThrow(UsageError);
  });

  it('prints one object alone and several as a List', () => {
    const one = renderObjects([peer('a', { peerIP: '10.0.0.1' })], 'json', 'BGPPeerList');
    expect(JSON.parse(one)).toEqual({ apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'a' }, spec: { peerIP: '10.0.0.1' } });
    const many = JSON.parse(renderObjects([peer('a', {}), peer('b', {})], 'json', 'BGPPeerList', 42));
    expect(many.kind).toBe('BGPPeerList');
    expect(many.items.map((i: Resource) => i.metadata.name)).toEqual(['a', 'b']);
    expect(many.metadata).toEqual({ resourceVersion: '42' });
    expect(renderObjects([peer('a', { peerIP: '10.0.0.1' })], 'yaml', 'BGPPeerList')).toBe('apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: a\nspec:\n  peerIP: 10.0.0.1');
  });
});
