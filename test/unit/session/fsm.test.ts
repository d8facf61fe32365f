import {
  ALLOWED_TRANSITIONS,
  type FsmAction,
  type FsmContext,
  type FsmEvent,
  type FsmResult,
  type FsmState,
  guardTransition,
  initialState,
  type SessionState,
  step,
} from '../../../src/bgp/session/fsm';
import { buildLocalOpen } from '../../../src/bgp/session/local-open';
import { type Negotiated, validateOpen } from '../../../src/bgp/session/negotiate';
import {
  BgpWireError,
  CeaseSubcode,
  ErrorCode,
  FsmSubcode,
  type BgpMessage,
  MessageType,
  type NotificationMessage,
} from '../../../src/bgp/wire';
import { peerOpen, sessionConfig } from './helpers';

const config = sessionConfig();
const active: FsmContext = { config, localOpen: buildLocalOpen(config), passive: false };
const passive: FsmContext = { ...active, passive: true };

function negotiated(holdTime = 90): Negotiated {
  const check = validateOpen(peerOpen({ holdTime }), config);
  if (!check.ok) throw check.error;
  return check.negotiated;
}

function state(name: SessionState, hold = 90): FsmState {
  if (name === 'OpenConfirm' || name === 'Established') return { name, negotiated: negotiated(hold) };
  return { name };
}

const update: FsmEvent = {
  type: 'UpdateMsg',
  message: { type: MessageType.UPDATE, withdrawn: [], attributes: {}, nlri: [] },
};
const routeRefresh: FsmEvent = {
  type: 'RouteRefreshMsg',
  message: { type: MessageType.ROUTE_REFRESH, afi: 1, safi: 1, subtype: 0 },
};
const cease: NotificationMessage = { type: MessageType.NOTIFICATION, code: 6, subcode: 2, data: Buffer.alloc(0) };
const EVENTS: Record<string, FsmEvent> = {
  ManualStart: { type: 'ManualStart' },
  AutomaticStart: { type: 'AutomaticStart' },
  ManualStop: { type: 'ManualStop' },
  ConnectRetry: { type: 'ConnectRetryTimer_Expires' },
  Hold: { type: 'HoldTimer_Expires' },
  Keepalive: { type: 'KeepaliveTimer_Expires' },
  TcpUp: { type: 'TcpConnectionEstablished' },
  TcpIn: { type: 'TcpConnectionConfirmed' },
  TcpFails: { type: 'TcpConnectionFails', detail: 'ECONNREFUSED' },
  Open: { type: 'BGPOpen', message: peerOpen() },
  BadOpen: { type: 'BGPOpen', message: peerOpen({ myAs: 64999 }) },
  Notif: { type: 'NotifMsg', message: cease },
  KeepAliveMsg: { type: 'KeepAliveMsg' },
  Update: update,
  RouteRefresh: routeRefresh,
  DecodeError: {
    type: 'DecodeError',
    error: new BgpWireError('bad marker', { code: ErrorCode.MESSAGE_HEADER, subcode: 1 }),
  },
};

/** Compact view of actions: "send OPEN", "start hold 240", "notify 5/1", "down". */
function summary(actions: FsmAction[]): string[] {
  return actions.map((a) => {
    switch (a.type) {
      case 'send':
        return a.message.type === MessageType.NOTIFICATION
          ? `notify ${a.message.code}/${a.message.subcode}`
          : `send ${MessageType[a.message.type]}`;
      case 'start-timer':
        return `start ${a.timer} ${a.seconds}`;
      case 'stop-timer':
        return `stop ${a.timer}`;
      case 'session-down':
        return `down ${a.reason.kind}`;
      case 'deliver':
        return `deliver ${MessageType[a.message.type]}`;
      default:
        return a.type;
    }
  });
}

const TEARDOWN = ['stop connectRetry', 'stop hold', 'stop keepalive'];

describe('RFC 4271 §8.2.2 transitions', () => {
  const table: { from: SessionState; event: string; to: SessionState; actions: string[]; ctx?: FsmContext }[] = [
    // Idle
    { from: 'Idle', event: 'ManualStart', to: 'Connect', actions: ['start connectRetry 3', 'connect'] },
    { from: 'Idle', event: 'AutomaticStart', to: 'Connect', actions: ['start connectRetry 3', 'connect'] },
    { from: 'Idle', event: 'ManualStart', to: 'Active', actions: [], ctx: passive },
    { from: 'Idle', event: 'ManualStop', to: 'Idle', actions: [] },
    { from: 'Idle', event: 'TcpIn', to: 'Idle', actions: [] },
    { from: 'Idle', event: 'Open', to: 'Idle', actions: [] },
    { from: 'Idle', event: 'Hold', to: 'Idle', actions: [] },
    // Connect
    { from: 'Connect', event: 'ConnectRetry', to: 'Connect', actions: ['close', 'start connectRetry 3', 'connect'] },
    { from: 'Connect', event: 'TcpUp', to: 'OpenSent', actions: ['stop connectRetry', 'send OPEN', 'start hold 240'] },
    { from: 'Connect', event: 'TcpIn', to: 'OpenSent', actions: ['stop connectRetry', 'send OPEN', 'start hold 240'] },
    { from: 'Connect', event: 'TcpFails', to: 'Active', actions: ['close', 'start connectRetry 3'] },
    { from: 'Connect', event: 'ManualStop', to: 'Idle', actions: [...TEARDOWN, 'close', 'down stopped'] },
    { from: 'Connect', event: 'ManualStart', to: 'Connect', actions: [] },
    // Active
    { from: 'Active', event: 'ConnectRetry', to: 'Connect', actions: ['start connectRetry 3', 'connect'] },
    { from: 'Active', event: 'ConnectRetry', to: 'Active', actions: [], ctx: passive },
    { from: 'Active', event: 'TcpIn', to: 'OpenSent', actions: ['stop connectRetry', 'send OPEN', 'start hold 240'] },
    { from: 'Active', event: 'TcpFails', to: 'Active', actions: ['close', 'start connectRetry 3'] },
    { from: 'Active', event: 'TcpFails', to: 'Idle', actions: [...TEARDOWN, 'close', 'down connection-lost'], ctx: passive },
    { from: 'Active', event: 'ManualStop', to: 'Idle', actions: [...TEARDOWN, 'close', 'down stopped'] },
    // OpenSent
    {
      from: 'OpenSent',
      event: 'Open',
      to: 'OpenConfirm',
      actions: ['stop connectRetry', 'send KEEPALIVE', 'start hold 90', 'start keepalive 30'],
    },
    { from: 'OpenSent', event: 'BadOpen', to: 'Idle', actions: [...TEARDOWN, 'notify 2/2', 'close', 'down notification-sent'] },
    { from: 'OpenSent', event: 'TcpFails', to: 'Active', actions: ['stop hold', 'close', 'start connectRetry 3'] },
    { from: 'OpenSent', event: 'TcpFails', to: 'Idle', actions: [...TEARDOWN, 'close', 'down connection-lost'], ctx: passive },
    { from: 'OpenSent', event: 'Hold', to: 'Idle', actions: [...TEARDOWN, 'notify 4/0', 'close', 'down hold-timer-expired'] },
    { from: 'OpenSent', event: 'ManualStop', to: 'Idle', actions: [...TEARDOWN, 'notify 6/2', 'close', 'down stopped'] },
    { from: 'OpenSent', event: 'Notif', to: 'Idle', actions: [...TEARDOWN, 'close', 'down notification-received'] },
    { from: 'OpenSent', event: 'KeepAliveMsg', to: 'Idle', actions: [...TEARDOWN, 'notify 5/1', 'close', 'down notification-sent'] },
    { from: 'OpenSent', event: 'Update', to: 'Idle', actions: [...TEARDOWN, 'notify 5/1', 'close', 'down notification-sent'] },
    { from: 'OpenSent', event: 'RouteRefresh', to: 'Idle', actions: [...TEARDOWN, 'notify 5/1', 'close', 'down notification-sent'] },
    { from: 'OpenSent', event: 'DecodeError', to: 'Idle', actions: [...TEARDOWN, 'notify 1/1', 'close', 'down notification-sent'] },
    { from: 'OpenSent', event: 'Keepalive', to: 'Idle', actions: [...TEARDOWN, 'notify 5/0', 'close', 'down notification-sent'] },
    { from: 'OpenSent', event: 'TcpIn', to: 'OpenSent', actions: [] },
    // OpenConfirm
    { from: 'OpenConfirm', event: 'KeepAliveMsg', to: 'Established', actions: ['start hold 90', 'established'] },
    { from: 'OpenConfirm', event: 'Keepalive', to: 'OpenConfirm', actions: ['send KEEPALIVE', 'start keepalive 30'] },
    { from: 'OpenConfirm', event: 'Open', to: 'Idle', actions: [...TEARDOWN, 'notify 5/2', 'close', 'down notification-sent'] },
    { from: 'OpenConfirm', event: 'Update', to: 'Idle', actions: [...TEARDOWN, 'notify 5/2', 'close', 'down notification-sent'] },
    { from: 'OpenConfirm', event: 'RouteRefresh', to: 'Idle', actions: [...TEARDOWN, 'notify 5/2', 'close', 'down notification-sent'] },
    { from: 'OpenConfirm', event: 'Hold', to: 'Idle', actions: [...TEARDOWN, 'notify 4/0', 'close', 'down hold-timer-expired'] },
    { from: 'OpenConfirm', event: 'Notif', to: 'Idle', actions: [...TEARDOWN, 'close', 'down notification-received'] },
    { from: 'OpenConfirm', event: 'TcpFails', to: 'Idle', actions: [...TEARDOWN, 'close', 'down connection-lost'] },
    { from: 'OpenConfirm', event: 'ManualStop', to: 'Idle', actions: [...TEARDOWN, 'notify 6/2', 'close', 'down stopped'] },
    { from: 'OpenConfirm', event: 'ConnectRetry', to: 'Idle', actions: [...TEARDOWN, 'notify 5/0', 'close', 'down notification-sent'] },
    // Established
    { from: 'Established', event: 'KeepAliveMsg', to: 'Established', actions: ['start hold 90'] },
    { from: 'Established', event: 'Update', to: 'Established', actions: ['start hold 90', 'deliver UPDATE'] },
    { from: 'Established', event: 'RouteRefresh', to: 'Established', actions: ['start hold 90', 'deliver ROUTE_REFRESH'] },
    { from: 'Established', event: 'Keepalive', to: 'Established', actions: ['send KEEPALIVE', 'start keepalive 30'] },
    { from: 'Established', event: 'Open', to: 'Idle', actions: [...TEARDOWN, 'notify 5/3', 'close', 'down notification-sent'] },
    { from: 'Established', event: 'Hold', to: 'Idle', actions: [...TEARDOWN, 'notify 4/0', 'close', 'down hold-timer-expired'] },
    { from: 'Established', event: 'Notif', to: 'Idle', actions: [...TEARDOWN, 'close', 'down notification-received'] },
    { from: 'Established', event: 'TcpFails', to: 'Idle', actions: [...TEARDOWN, 'close', 'down connection-lost'] },
    { from: 'Established', event: 'ManualStop', to: 'Idle', actions: [...TEARDOWN, 'notify 6/2', 'close', 'down stopped'] },
    { from: 'Established', event: 'DecodeError', to: 'Idle', actions: [...TEARDOWN, 'notify 1/1', 'close', 'down notification-sent'] },
    { from: 'Established', event: 'TcpIn', to: 'Established', actions: [] },
  ];

  it.each(table)('$from + $event -> $to', ({ from, event, to, actions, ctx }) => {
    const result = step(state(from), EVENTS[event] as FsmEvent, ctx ?? active);
    expect(result.refused).toBeUndefined();
    expect(result.state.name).toBe(to);
    expect(summary(result.actions)).toEqual(actions);
  });

  it('every proposed move is an edge of the RFC graph', () => {
    for (const from of Object.keys(ALLOWED_TRANSITIONS) as SessionState[]) {
      for (const event of Object.values(EVENTS)) {
        for (const ctx of [active, passive]) {
          expect(step(state(from), event, ctx).refused).toBeUndefined();
        }
      }
    }
  });
});

describe('details of the transitions', () => {
  function sent(result: FsmResult): BgpMessage[] {
    return result.actions.flatMap((a) => (a.type === 'send' ? [a.message] : []));
  }

  it('sends our OPEN from the context on connection', () => {
    const r = step(state('Connect'), EVENTS.TcpUp as FsmEvent, active);
    expect(sent(r)).toEqual([active.localOpen]);
  });

  it('jitters connect retry and keepalive but not hold (RFC 4271 §10)', () => {
    const starts = [
      ...step(initialState(), EVENTS.ManualStart as FsmEvent, active).actions,
      ...step(state('OpenSent'), EVENTS.Open as FsmEvent, active).actions,
    ].flatMap((a) => (a.type === 'start-timer' ? [[a.timer, a.jitter]] : []));
    expect(starts).toEqual([
      ['connectRetry', true],
      ['hold', false],
      ['keepalive', true],
    ]);
  });

  it('runs no hold or keepalive timer when the negotiated hold time is 0', () => {
    const r = step(state('OpenSent'), { type: 'BGPOpen', message: peerOpen({ holdTime: 0 }) }, active);
    expect(r.state.name).toBe('OpenConfirm');
    expect(summary(r.actions)).toEqual(['stop connectRetry', 'send KEEPALIVE', 'stop hold', 'stop keepalive']);
    const est = step(state('OpenConfirm', 0), EVENTS.KeepAliveMsg as FsmEvent, active);
    expect(summary(est.actions)).toEqual(['established']);
    expect(summary(step(state('Established', 0), update, active).actions)).toEqual(['deliver UPDATE']);
  });

  it('carries the Cease subcode and data of ManualStop (RFC 8203)', () => {
    const data = Buffer.from([3, 0x62, 0x79, 0x65]);
    const r = step(state('Established'), { type: 'ManualStop', cease: { subcode: CeaseSubcode.PEER_DECONFIGURED, data } }, active);
    expect(sent(r)).toEqual([{ type: MessageType.NOTIFICATION, code: ErrorCode.CEASE, subcode: 3, data }]);
    const down = r.actions.find((a) => a.type === 'session-down');
    expect(down).toMatchObject({ reason: { kind: 'stopped', notification: { code: 6, subcode: 3 } } });
  });

  it('sends the OPEN error that validation produced, with its data', () => {
    const r = step(state('OpenSent'), { type: 'BGPOpen', message: peerOpen({ version: 3 }) }, active);
    expect(sent(r)).toEqual([{ type: MessageType.NOTIFICATION, code: 2, subcode: 1, data: Buffer.from([0, 4]) }]);
  });

  it('uses the RFC 6608 subcode of the state for unexpected messages', () => {
    const subcodeOf = (from: SessionState, event: FsmEvent): number | undefined => {
      const n = sent(step(state(from), event, active))[0];
      return n?.type === MessageType.NOTIFICATION ? n.subcode : undefined;
    };
    expect(subcodeOf('OpenSent', EVENTS.Update as FsmEvent)).toBe(FsmSubcode.UNEXPECTED_MESSAGE_IN_OPENSENT);
    expect(subcodeOf('OpenConfirm', EVENTS.Update as FsmEvent)).toBe(FsmSubcode.UNEXPECTED_MESSAGE_IN_OPENCONFIRM);
    expect(subcodeOf('Established', EVENTS.Open as FsmEvent)).toBe(FsmSubcode.UNEXPECTED_MESSAGE_IN_ESTABLISHED);
  });

  it('ignores a ROUTE-REFRESH for a family that was not negotiated (RFC 2918 §4)', () => {
    const v6: FsmEvent = { type: 'RouteRefreshMsg', message: { type: MessageType.ROUTE_REFRESH, afi: 2, safi: 1, subtype: 0 } };
    expect(summary(step(state('Established'), v6, active).actions)).toEqual(['start hold 90']);
  });

  it('reports the received NOTIFICATION as the down reason with its text', () => {
    const r = step(state('Established'), EVENTS.Notif as FsmEvent, active);
    const down = r.actions.find((a) => a.type === 'session-down');
    expect(down).toMatchObject({ reason: { kind: 'notification-received', notification: { code: 6, subcode: 2 } } });
    expect(r.reason).toMatch(/Cease/);
  });

  it('keeps the negotiated result in OpenConfirm and Established', () => {
    const confirm = step(state('OpenSent'), EVENTS.Open as FsmEvent, active).state;
    expect(confirm).toMatchObject({ name: 'OpenConfirm', negotiated: { peerBgpId: '10.0.0.2', holdTime: 90 } });
    const est = step(confirm, EVENTS.KeepAliveMsg as FsmEvent, active);
    expect(est.actions.find((a) => a.type === 'established')).toMatchObject({ negotiated: { peerAs: 65002 } });
  });
});

describe('guardTransition', () => {
  it('refuses a move that is not an edge and does nothing', () => {
    const from: FsmState = { name: 'Idle' };
    const proposed: FsmResult = { state: state('Established'), actions: [{ type: 'connect' }], reason: 'bug' };
    const r = guardTransition(from, proposed);
    expect(r.refused).toEqual({ from: 'Idle', to: 'Established' });
    expect(r.state).toBe(from);
    expect(r.actions).toEqual([]);
  });

  it('passes an allowed move through unchanged', () => {
    const proposed: FsmResult = { state: { name: 'Connect' }, actions: [{ type: 'connect' }], reason: 'started' };
    expect(guardTransition({ name: 'Idle' }, proposed)).toBe(proposed);
  });

  it.each([
    ['Established', 'OpenSent'],
    ['OpenConfirm', 'Active'],
    ['Idle', 'OpenSent'],
    ['Connect', 'Established'],
  ] as const)('forbids %s -> %s', (from, to) => {
    expect(ALLOWED_TRANSITIONS[from]).not.toContain(to);
  });
});
