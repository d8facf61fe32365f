import { buildLocalOpen } from '../../../src/bgp/session/local-open';
import { codecOptionsFor, keepaliveFor, type OpenCheck, validateOpen } from '../../../src/bgp/session/negotiate';
import {
  AddPathMode,
  AS_TRANS,
  type Capability,
  CapabilityCode,
  decodeMessage,
  DEFAULT_CODEC_OPTIONS,
  encodeCapability,
  encodeMessage,
  ErrorCode,
  MessageType,
  type OpenMessage,
  OpenSubcode,
} from '../../../src/bgp/wire';
import { peerOpen, sessionConfig } from './helpers';

function refused(check: OpenCheck): { code: number; subcode: number; data: Buffer } {
  if (check.ok) throw new Error('expected the OPEN to be refused');
  return check.error.notification;
}

function accepted(check: OpenCheck) {
  if (!check.ok) throw new Error(`expected the OPEN to be accepted, got ${check.error.message}`);
  return check.negotiated;
}

const MP_V4: Capability = { code: CapabilityCode.MULTIPROTOCOL, afi: 1, safi: 1 };
const MP_V6: Capability = { code: CapabilityCode.MULTIPROTOCOL, afi: 2, safi: 1 };

describe('validateOpen: OPEN message errors (RFC 4271 §6.2)', () => {
  const cases: { name: string; open: OpenMessage; config?: Parameters<typeof sessionConfig>[0]; subcode: OpenSubcode; data?: string }[] = [
    { name: 'version 3', open: peerOpen({ version: 3 }), subcode: OpenSubcode.UNSUPPORTED_VERSION, data: '0004' },
    { name: 'version 5', open: peerOpen({ version: 5 }), subcode: OpenSubcode.UNSUPPORTED_VERSION, data: '0004' },
    {
      name: 'wrong 2-octet AS, no capability',
      open: { ...peerOpen(), myAs: 65003, capabilities: [MP_V4] },
      subcode: OpenSubcode.BAD_PEER_AS,
    },
    {
      name: 'wrong AS in the 4-octet capability',
      open: peerOpen({ myAs: AS_TRANS, capabilities: [MP_V4, { code: CapabilityCode.FOUR_OCTET_AS, asn: 4200000009 }] }),
      config: { peerAs: 4200000002 },
      subcode: OpenSubcode.BAD_PEER_AS,
    },
    {
      name: 'AS_TRANS in My AS without the 4-octet capability (RFC 6793)',
      open: { ...peerOpen(), myAs: AS_TRANS, capabilities: [MP_V4] },
      config: { peerAs: AS_TRANS },
      subcode: OpenSubcode.BAD_PEER_AS,
    },
    {
      name: '4-octet capability carrying AS_TRANS',
      open: peerOpen({ myAs: AS_TRANS, capabilities: [MP_V4, { code: CapabilityCode.FOUR_OCTET_AS, asn: AS_TRANS }] }),
      config: { peerAs: AS_TRANS },
      subcode: OpenSubcode.BAD_PEER_AS,
    },
    {
      name: 'My AS disagrees with a 2-octet-sized 4-octet capability',
      open: peerOpen({ myAs: 65002, capabilities: [MP_V4, { code: CapabilityCode.FOUR_OCTET_AS, asn: 65003 }] }),
      config: { peerAs: 65003 },
      subcode: OpenSubcode.BAD_PEER_AS,
    },
    { name: 'BGP identifier 0.0.0.0', open: peerOpen({ bgpId: '0.0.0.0' }), subcode: OpenSubcode.BAD_BGP_IDENTIFIER },
    {
      name: 'iBGP peer with our BGP identifier (RFC 6286 §2.2)',
      open: peerOpen({ bgpId: '10.0.0.1', myAs: 65001, capabilities: [MP_V4, { code: CapabilityCode.FOUR_OCTET_AS, asn: 65001 }] }),
      config: { peerAs: 65001 },
      subcode: OpenSubcode.BAD_BGP_IDENTIFIER,
    },
    { name: 'hold time 1', open: peerOpen({ holdTime: 1 }), subcode: OpenSubcode.UNACCEPTABLE_HOLD_TIME },
    { name: 'hold time 2', open: peerOpen({ holdTime: 2 }), subcode: OpenSubcode.UNACCEPTABLE_HOLD_TIME },
  ];

  it.each(cases)('$name -> 2/$subcode', ({ open, config, subcode, data }) => {
    const n = refused(validateOpen(open, sessionConfig(config)));
    expect(n.code).toBe(ErrorCode.OPEN_MESSAGE);
    expect(n.subcode).toBe(subcode);
    expect(n.data.toString('hex')).toBe(data ?? '');
  });

  it('accepts an eBGP peer that shares our BGP identifier (RFC 6286 allows it between ASes)', () => {
    const n = accepted(validateOpen(peerOpen({ bgpId: '10.0.0.1' }), sessionConfig()));
    expect(n.peerBgpId).toBe('10.0.0.1');
    expect(n.ibgp).toBe(false);
  });

  it('accepts a 4-octet peer AS sent as AS_TRANS plus the capability', () => {
    const open = peerOpen({ myAs: AS_TRANS, capabilities: [MP_V4, { code: CapabilityCode.FOUR_OCTET_AS, asn: 4200000002 }] });
    const n = accepted(validateOpen(open, sessionConfig({ peerAs: 4200000002 })));
    expect(n.peerAs).toBe(4200000002);
    expect(n.fourOctetAs).toBe(true);
  });

  it('accepts an old 2-octet-only peer and reports no 4-octet AS', () => {
    const n = accepted(validateOpen({ ...peerOpen(), capabilities: [MP_V4] }, sessionConfig()));
    expect(n.peerAs).toBe(65002);
    expect(n.fourOctetAs).toBe(false);
    expect(codecOptionsFor(n).decode.fourOctetAs).toBe(false);
  });

  it('marks iBGP when the peer is in our AS', () => {
    const open = peerOpen({ myAs: 65001, capabilities: [MP_V4, { code: CapabilityCode.FOUR_OCTET_AS, asn: 65001 }] });
    expect(accepted(validateOpen(open, sessionConfig({ peerAs: 65001 }))).ibgp).toBe(true);
  });
});

describe('hold time and keepalive', () => {
  it.each([
    { local: 90, remote: 90, hold: 90, keepalive: 30 },
    { local: 90, remote: 30, hold: 30, keepalive: 10 },
    { local: 3, remote: 90, hold: 3, keepalive: 1 },
    { local: 90, remote: 3, hold: 3, keepalive: 1 },
    { local: 90, remote: 0, hold: 0, keepalive: 0 },
    { local: 0, remote: 240, hold: 0, keepalive: 0 },
    { local: 10, remote: 10, hold: 10, keepalive: 3 },
  ])('ours $local, theirs $remote -> hold $hold, keepalive $keepalive', ({ local, remote, hold, keepalive }) => {
    const n = accepted(validateOpen(peerOpen({ holdTime: remote }), sessionConfig({ holdTime: local })));
    expect(n.holdTime).toBe(hold);
    expect(n.keepaliveTime).toBe(keepalive);
    expect(n.peerHoldTime).toBe(remote);
  });

  it('uses a configured keepalive when it is below a third of the hold time (Calico keepaliveTime)', () => {
    expect(keepaliveFor(90, 5)).toBe(5);
    expect(keepaliveFor(90, 60)).toBe(30);
    expect(keepaliveFor(0, 5)).toBe(0);
  });
});

describe('capability negotiation', () => {
  it('intersects families and implies IPv4 unicast from a peer without multiprotocol capabilities (RFC 4760)', () => {
    const both = sessionConfig({ families: ['ipv4-unicast', 'ipv6-unicast'] });
    expect(accepted(validateOpen(peerOpen({}, [MP_V6]), both)).families).toEqual(['ipv4-unicast', 'ipv6-unicast']);
    expect(accepted(validateOpen(peerOpen(), both)).families).toEqual(['ipv4-unicast']);
    const noMp = { ...peerOpen(), capabilities: [{ code: CapabilityCode.FOUR_OCTET_AS, asn: 65002 } as Capability] };
    expect(accepted(validateOpen(noMp, both)).families).toEqual(['ipv4-unicast']);
  });

  it('refuses with 2/7 naming our families when none is in common', () => {
    const config = sessionConfig({ families: ['ipv6-unicast'] });
    const n = refused(validateOpen(peerOpen(), config));
    expect([n.code, n.subcode]).toEqual([ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSUPPORTED_CAPABILITY]);
    expect(n.data).toEqual(encodeCapability(MP_V6));
  });

  it.each([
    { require: 'graceful-restart' as const, config: { gracefulRestart: { restartTime: 120, forwarding: false, restarting: false } } },
    { require: 'extended-message' as const, config: {} },
    { require: 'enhanced-route-refresh' as const, config: {} },
  ])('refuses with 2/7 when the peer lacks required $require, data = our capability', ({ require, config }) => {
    const local = sessionConfig({ ...config, requireCapabilities: [require] });
    const n = refused(validateOpen(peerOpen(), local));
    expect([n.code, n.subcode]).toEqual([ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSUPPORTED_CAPABILITY]);
    const ours = buildLocalOpen(local).capabilities.find((c) => c.code !== 'unknown' && n.data[0] === c.code);
    expect(ours).toBeDefined();
    expect(n.data).toEqual(encodeCapability(ours as Capability));
  });

  it('refuses a peer without the 4-octet AS capability when it is required', () => {
    const n = refused(validateOpen({ ...peerOpen(), capabilities: [MP_V4] }, sessionConfig({ requireCapabilities: ['four-octet-as'] })));
    expect(n.subcode).toBe(OpenSubcode.UNSUPPORTED_CAPABILITY);
    expect(n.data).toEqual(encodeCapability({ code: CapabilityCode.FOUR_OCTET_AS, asn: 65001 }));
  });

  it('ignores capabilities it does not know (RFC 5492 permissive)', () => {
    const open = peerOpen({}, [{ code: 'unknown', typeCode: 73, value: Buffer.from('host') }]);
    const n = accepted(validateOpen(open, sessionConfig()));
    expect(n.peerCapabilities).toHaveLength(4);
  });

  it('negotiates route refresh, also from the pre-standard code 128', () => {
    expect(accepted(validateOpen(peerOpen(), sessionConfig())).routeRefresh).toBe(true);
    const old = { ...peerOpen(), capabilities: [MP_V4, { code: 'unknown', typeCode: 128, value: Buffer.alloc(0) } as Capability] };
    expect(accepted(validateOpen(old, sessionConfig())).routeRefresh).toBe(true);
    const none = { ...peerOpen(), capabilities: [MP_V4] };
    expect(accepted(validateOpen(none, sessionConfig())).routeRefresh).toBe(false);
  });

  it('needs both sides for enhanced route refresh and extended message', () => {
    const err: Capability = { code: CapabilityCode.ENHANCED_ROUTE_REFRESH };
    const ext: Capability = { code: CapabilityCode.EXTENDED_MESSAGE };
    const both = accepted(validateOpen(peerOpen({}, [err, ext]), sessionConfig()));
    expect([both.enhancedRouteRefresh, both.extendedMessage]).toEqual([true, true]);
    const oursOff = accepted(
      validateOpen(peerOpen({}, [err, ext]), sessionConfig({ enhancedRouteRefresh: false, extendedMessage: false })),
    );
    expect([oursOff.enhancedRouteRefresh, oursOff.extendedMessage]).toEqual([false, false]);
    const theirsOff = accepted(validateOpen(peerOpen(), sessionConfig()));
    expect([theirsOff.enhancedRouteRefresh, theirsOff.extendedMessage]).toEqual([false, false]);
    expect(codecOptionsFor(both).encode.extendedMessage).toBe(true);
  });

  describe('ADD-PATH (RFC 7911 §4)', () => {
    const addPath = (mode: AddPathMode, afi = 1): Capability => ({
      code: CapabilityCode.ADD_PATH,
      families: [{ afi, safi: 1, mode }],
    });

    it.each([
      { ours: 'both' as const, theirs: AddPathMode.BOTH, receive: ['ipv4-unicast'], send: ['ipv4-unicast'] },
      { ours: 'both' as const, theirs: AddPathMode.SEND, receive: ['ipv4-unicast'], send: [] },
      { ours: 'both' as const, theirs: AddPathMode.RECEIVE, receive: [], send: ['ipv4-unicast'] },
      { ours: 'receive' as const, theirs: AddPathMode.RECEIVE, receive: [], send: [] },
      { ours: 'receive' as const, theirs: AddPathMode.BOTH, receive: ['ipv4-unicast'], send: [] },
      { ours: 'send' as const, theirs: AddPathMode.RECEIVE, receive: [], send: ['ipv4-unicast'] },
      { ours: 'send' as const, theirs: AddPathMode.SEND, receive: [], send: [] },
    ])('ours $ours, theirs mode $theirs -> receive $receive, send $send', ({ ours, theirs, receive, send }) => {
      const n = accepted(validateOpen(peerOpen({}, [addPath(theirs)]), sessionConfig({ addPath: { 'ipv4-unicast': ours } })));
      expect(n.addPath).toEqual({ receive, send });
      const opts = codecOptionsFor(n);
      expect([...opts.decode.addPath]).toEqual(receive);
      expect([...opts.encode.addPath]).toEqual(send);
    });

    it('ignores ADD-PATH for a family that was not negotiated', () => {
      const n = accepted(validateOpen(peerOpen({}, [addPath(AddPathMode.BOTH, 2)]), sessionConfig({ addPath: { 'ipv4-unicast': 'both' } })));
      expect(n.addPath).toEqual({ receive: [], send: [] });
    });

    it('uses none when we did not configure it', () => {
      const n = accepted(validateOpen(peerOpen({}, [addPath(AddPathMode.BOTH)]), sessionConfig()));
      expect(n.addPath).toEqual({ receive: [], send: [] });
    });
  });

  it('reports the peer graceful restart state only when both advertise it (RFC 4724)', () => {
    const gr: Capability = {
      code: CapabilityCode.GRACEFUL_RESTART,
      restarting: true,
      notification: false,
      restartTime: 77,
      families: [
        { afi: 1, safi: 1, forwarding: true },
        { afi: 2, safi: 1, forwarding: false },
      ],
    };
    const withGr = sessionConfig({ gracefulRestart: { restartTime: 120, forwarding: false, restarting: false } });
    expect(accepted(validateOpen(peerOpen({}, [gr]), withGr)).gracefulRestart).toEqual({
      restartTime: 77,
      restarting: true,
      notification: false,
      families: [{ family: 'ipv4-unicast', forwarding: true }],
    });
    expect(accepted(validateOpen(peerOpen({}, [gr]), sessionConfig())).gracefulRestart).toBeUndefined();
    expect(accepted(validateOpen(peerOpen(), withGr)).gracefulRestart).toBeUndefined();
  });

  it('negotiates extended next hop for IPv4 over IPv6 when both advertise it (RFC 8950)', () => {
    const enh: Capability = { code: CapabilityCode.EXTENDED_NEXT_HOP, entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] };
    expect(accepted(validateOpen(peerOpen({}, [enh]), sessionConfig({ extendedNextHop: true }))).extendedNextHop).toEqual([
      'ipv4-unicast',
    ]);
    expect(accepted(validateOpen(peerOpen({}, [enh]), sessionConfig())).extendedNextHop).toEqual([]);
  });
});

describe('buildLocalOpen', () => {
  it('puts AS_TRANS in My AS and the real AS in the capability for a 4-octet AS (RFC 6793)', () => {
    const open = buildLocalOpen(sessionConfig({ localAs: 4200000001 }));
    expect(open.myAs).toBe(AS_TRANS);
    expect(open.capabilities).toContainEqual({ code: CapabilityCode.FOUR_OCTET_AS, asn: 4200000001 });
  });

  it('advertises what is configured and survives an encode/decode round trip', () => {
    const config = sessionConfig({
      families: ['ipv4-unicast', 'ipv6-unicast'],
      holdTime: 30,
      addPath: { 'ipv6-unicast': 'receive' },
      gracefulRestart: { restartTime: 120, forwarding: true, restarting: false },
      extendedNextHop: true,
    });
    const open = buildLocalOpen(config);
    expect(open).toMatchObject({ version: 4, myAs: 65001, holdTime: 30, bgpId: '10.0.0.1' });
    const codes = open.capabilities.map((c) => c.code);
    expect(codes).toEqual([
      CapabilityCode.MULTIPROTOCOL,
      CapabilityCode.MULTIPROTOCOL,
      CapabilityCode.ROUTE_REFRESH,
      CapabilityCode.ENHANCED_ROUTE_REFRESH,
      CapabilityCode.FOUR_OCTET_AS,
      CapabilityCode.ADD_PATH,
      CapabilityCode.GRACEFUL_RESTART,
      CapabilityCode.EXTENDED_MESSAGE,
      CapabilityCode.EXTENDED_NEXT_HOP,
    ]);
    expect(open.capabilities).toContainEqual({
      code: CapabilityCode.ADD_PATH,
      families: [{ afi: 2, safi: 1, mode: AddPathMode.RECEIVE }],
    });
    expect(open.capabilities).toContainEqual({
      code: CapabilityCode.GRACEFUL_RESTART,
      restarting: false,
      notification: false,
      restartTime: 120,
      families: [
        { afi: 1, safi: 1, forwarding: true },
        { afi: 2, safi: 1, forwarding: true },
      ],
    });
    const decoded = decodeMessage(encodeMessage(open, DEFAULT_CODEC_OPTIONS), DEFAULT_CODEC_OPTIONS);
    expect(decoded).toEqual(open);
    expect(decoded.type).toBe(MessageType.OPEN);
  });

  it('leaves out optional capabilities that are switched off', () => {
    const open = buildLocalOpen(sessionConfig({ enhancedRouteRefresh: false, extendedMessage: false }));
    expect(open.capabilities.map((c) => c.code)).toEqual([
      CapabilityCode.MULTIPROTOCOL,
      CapabilityCode.ROUTE_REFRESH,
      CapabilityCode.FOUR_OCTET_AS,
    ]);
  });

  it('an OPEN we build is acceptable to a peer configured the other way round', () => {
    const ours = buildLocalOpen(sessionConfig());
    const mirror = sessionConfig({ localAs: 65002, peerAs: 65001, routerId: '10.0.0.2' });
    const n = accepted(validateOpen(ours, mirror));
    expect(n.peerAs).toBe(65001);
    expect(n.extendedMessage).toBe(true);
    expect(n.enhancedRouteRefresh).toBe(true);
  });
});
