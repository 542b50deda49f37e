// Unit tests of the pure FSM (fsm.ts): a table with every (state, event) pair of RFC 4271
// §8.2.2 — next state, NOTIFICATION (code/subcode), ConnectRetryCounter and key actions —
// written from the RFC text, then DelayOpen, passive mode, back-off, hold-time timers and
// the history record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NotificationMessage, OpenMessage } from '../codec/index.js';
import { shutdownData } from '../codec/index.js';
import {
  initialState, secondConnectionState, step, transition, HISTORY_LIMIT,
  type FsmAction, type FsmConfig, type FsmEvent, type FsmEventType, type FsmState, type SessionState,
} from './fsm.js';
import { buildOpen, negotiate, type Negotiated } from './negotiate.js';

const localOpen = buildOpen({ localAs: 65010, routerId: '192.0.2.10', holdTime: 90 });
const peerOpen: OpenMessage = {
  type: 'OPEN', version: 4, myAs: 65001, holdTime: 9, bgpIdentifier: '192.0.2.1',
  parameters: [{ type: 'capabilities', capabilities: [{ type: 'multiprotocol', family: 'ipv4-unicast' }, { type: '4-octet-as', asn: 65001 }] }],
};
const negotiated = (negotiate(localOpen, peerOpen) as { ok: true; negotiated: Negotiated }).negotiated;

const config: FsmConfig = {
  localOpen,
  policy: { peerAs: 65001 },
  connectRetryTime: 120,
  openHoldTime: 240,
  delayOpenTime: 0,
  idleHoldTime: 5,
  idleHoldMaxTime: 60,
  stableTime: 30,
};
const withDelay: FsmConfig = { ...config, delayOpenTime: 2 };

const notif = (code: number, subcode: number, shutdownMessage?: string): NotificationMessage => ({
  type: 'NOTIFICATION', code, subcode, data: shutdownMessage ? Buffer.from(shutdownData(shutdownMessage)).toString('hex') : '', ...(shutdownMessage ? { shutdownMessage } : {}),
});

/** One instance of every event. */
const EVENTS: Record<FsmEventType, FsmEvent> = {
  ManualStart: { type: 'ManualStart' },
  ManualStop: { type: 'ManualStop' },
  AutomaticStart: { type: 'AutomaticStart' },
  ManualStart_with_PassiveTcpEstablishment: { type: 'ManualStart_with_PassiveTcpEstablishment' },
  AutomaticStart_with_PassiveTcpEstablishment: { type: 'AutomaticStart_with_PassiveTcpEstablishment' },
  AutomaticStop: { type: 'AutomaticStop' },
  ConnectRetryTimer_Expires: { type: 'ConnectRetryTimer_Expires' },
  HoldTimer_Expires: { type: 'HoldTimer_Expires' },
  KeepaliveTimer_Expires: { type: 'KeepaliveTimer_Expires' },
  DelayOpenTimer_Expires: { type: 'DelayOpenTimer_Expires' },
  IdleHoldTimer_Expires: { type: 'IdleHoldTimer_Expires' },
  TcpConnection_Valid: { type: 'TcpConnection_Valid' },
  Tcp_CR_Invalid: { type: 'Tcp_CR_Invalid' },
  Tcp_CR_Acked: { type: 'Tcp_CR_Acked' },
  TcpConnectionConfirmed: { type: 'TcpConnectionConfirmed' },
  TcpConnectionFails: { type: 'TcpConnectionFails' },
  BGPOpen: { type: 'BGPOpen', open: peerOpen },
  BGPOpen_with_DelayOpenTimer_running: { type: 'BGPOpen_with_DelayOpenTimer_running', open: peerOpen },
  BGPHeaderErr: { type: 'BGPHeaderErr', error: { code: 1, subcode: 1 } },
  BGPOpenMsgErr: { type: 'BGPOpenMsgErr', error: { code: 2, subcode: 2 } },
  OpenCollisionDump: { type: 'OpenCollisionDump' },
  NotifMsgVerErr: { type: 'NotifMsgVerErr', notification: notif(2, 1) },
  NotifMsg: { type: 'NotifMsg', notification: notif(6, 2, 'maintenance') },
  KeepAliveMsg: { type: 'KeepAliveMsg' },
  UpdateMsg: { type: 'UpdateMsg' },
  UpdateMsgErr: { type: 'UpdateMsgErr', error: { code: 3, subcode: 1 } },
  RouteRefreshMsg: { type: 'RouteRefreshMsg', family: 'ipv4-unicast' },
  RouteRefreshMsgErr: { type: 'RouteRefreshMsgErr', error: { code: 7, subcode: 1 } },
  StableTimer_Expires: { type: 'StableTimer_Expires' },
};

/** A machine sitting in `state` as it would after the usual way there (counter 3 so changes show). */
function at(state: SessionState, patch: Partial<FsmState> = {}): FsmState {
  const base = { ...initialState(config), state, connectRetryCounter: 3, autoRestart: state !== 'Idle' };
  if (state === 'OpenConfirm' || state === 'Established') Object.assign(base, { negotiated });
  if (state === 'Active') Object.assign(base, { passive: true });
  return { ...base, ...patch } as FsmState;
}

/** Expectation: next state; NOTIFICATION [code, subcode] or null for none; counter +1 / 0 / = ; actions that must / must not appear. */
interface Exp {
  to: SessionState;
  send?: [number, number] | null;
  counter?: '+1' | '0' | '=';
  has?: string[];
  lacks?: string[];
}

const ignore = (s: SessionState): Exp => ({ to: s, send: null, counter: '=', lacks: ['close', 'down'] });
const idle = (send: [number, number] | null, counter: '+1' | '0' | '=' = '+1', extra: Partial<Exp> = {}): Exp => ({ to: 'Idle', send, counter, has: ['close', 'releaseResources', ...(extra.has ?? [])], lacks: extra.lacks });

const STARTS = ['ManualStart', 'AutomaticStart', 'ManualStart_with_PassiveTcpEstablishment', 'AutomaticStart_with_PassiveTcpEstablishment'] as const;
const ALL = Object.keys(EVENTS) as FsmEventType[];
function table(rows: Partial<Record<FsmEventType, Exp>>, rest: Exp): Record<FsmEventType, Exp> {
  return Object.fromEntries(ALL.map((e) => [e, rows[e] ?? rest])) as Record<FsmEventType, Exp>;
}

const TABLE: Record<SessionState, Record<FsmEventType, Exp>> = {
  // §8.2.2 Idle: starts; everything else ignored (the shell refuses connections).
  Idle: table({
    ManualStart: { to: 'Connect', counter: '0', has: ['connect', 'startTimer:ConnectRetry'] },
    AutomaticStart: { to: 'Connect', counter: '0', has: ['connect', 'startTimer:ConnectRetry'] },
    ManualStart_with_PassiveTcpEstablishment: { to: 'Active', counter: '0', has: ['startTimer:ConnectRetry'], lacks: ['connect'] },
    AutomaticStart_with_PassiveTcpEstablishment: { to: 'Active', counter: '0', has: ['startTimer:ConnectRetry'], lacks: ['connect'] },
  }, ignore('Idle')),
  // §8.2.2 Connect: "any other event" drops to Idle and increments the counter.
  Connect: table({
    ...Object.fromEntries(STARTS.map((e) => [e, ignore('Connect')])),
    ManualStop: idle(null, '0', { lacks: ['startTimer:IdleHold'] }),
    ConnectRetryTimer_Expires: { to: 'Connect', send: null, counter: '=', has: ['close', 'connect', 'startTimer:ConnectRetry', 'stopTimer:DelayOpen'] },
    DelayOpenTimer_Expires: { to: 'OpenSent', send: null, counter: '=', has: ['sendOpen', 'startTimer:Hold=240'] },
    TcpConnection_Valid: ignore('Connect'),
    Tcp_CR_Invalid: ignore('Connect'),
    Tcp_CR_Acked: { to: 'OpenSent', send: null, counter: '=', has: ['stopTimer:ConnectRetry', 'sendOpen', 'startTimer:Hold=240'] },
    TcpConnectionConfirmed: { to: 'OpenSent', send: null, counter: '=', has: ['stopTimer:ConnectRetry', 'sendOpen', 'startTimer:Hold=240'] },
    TcpConnectionFails: idle(null, '='),
    StableTimer_Expires: ignore('Connect'),
  }, idle(null, '+1')),
  // §8.2.2 Active (a passive start).
  Active: table({
    ...Object.fromEntries(STARTS.map((e) => [e, ignore('Active')])),
    ManualStop: idle(null, '0', { lacks: ['startTimer:IdleHold'] }),
    ConnectRetryTimer_Expires: { to: 'Active', send: null, counter: '=', has: ['startTimer:ConnectRetry'], lacks: ['connect'] },
    DelayOpenTimer_Expires: { to: 'OpenSent', send: null, counter: '=', has: ['stopTimer:ConnectRetry', 'sendOpen', 'startTimer:Hold=240'] },
    TcpConnection_Valid: ignore('Active'),
    Tcp_CR_Invalid: ignore('Active'),
    Tcp_CR_Acked: { to: 'OpenSent', send: null, counter: '=', has: ['sendOpen', 'startTimer:Hold=240'] },
    TcpConnectionConfirmed: { to: 'OpenSent', send: null, counter: '=', has: ['sendOpen', 'startTimer:Hold=240'] },
    TcpConnectionFails: idle(null, '+1'),
    StableTimer_Expires: ignore('Active'),
  }, idle(null, '+1')),
  // §8.2.2 OpenSent: other events are FSM errors, 5/1 for messages (RFC 6608), 5/0 for timers.
  OpenSent: table({
    ...Object.fromEntries(STARTS.map((e) => [e, ignore('OpenSent')])),
    ManualStop: idle([6, 2], '0'),
    AutomaticStop: idle([6, 2], '+1'),
    ConnectRetryTimer_Expires: idle([5, 0]),
    HoldTimer_Expires: idle([4, 0]),
    KeepaliveTimer_Expires: idle([5, 0]),
    DelayOpenTimer_Expires: idle([5, 0]),
    IdleHoldTimer_Expires: idle([5, 0]),
    TcpConnection_Valid: ignore('OpenSent'),
    Tcp_CR_Invalid: ignore('OpenSent'),
    Tcp_CR_Acked: ignore('OpenSent'),
    TcpConnectionConfirmed: ignore('OpenSent'),
    TcpConnectionFails: { to: 'Active', send: null, counter: '=', has: ['close', 'startTimer:ConnectRetry'] },
    BGPOpen: { to: 'OpenConfirm', send: null, counter: '=', has: ['negotiated', 'sendKeepalive', 'startTimer:Keepalive=3', 'startTimer:Hold=9', 'stopTimer:ConnectRetry'], lacks: ['sendOpen'] },
    BGPOpen_with_DelayOpenTimer_running: idle([5, 1]),
    BGPHeaderErr: idle([1, 1]),
    BGPOpenMsgErr: idle([2, 2]),
    OpenCollisionDump: idle([6, 7]),
    NotifMsgVerErr: idle(null, '='),
    NotifMsg: idle(null, '+1'),
    StableTimer_Expires: ignore('OpenSent'),
  }, idle([5, 1])),
  // §8.2.2 OpenConfirm.
  OpenConfirm: table({
    ...Object.fromEntries(STARTS.map((e) => [e, ignore('OpenConfirm')])),
    ManualStop: idle([6, 2], '0'),
    AutomaticStop: idle([6, 2], '+1'),
    ConnectRetryTimer_Expires: idle([5, 0]),
    HoldTimer_Expires: idle([4, 0]),
    KeepaliveTimer_Expires: { to: 'OpenConfirm', send: null, counter: '=', has: ['sendKeepalive', 'startTimer:Keepalive=3'] },
    DelayOpenTimer_Expires: idle([5, 0]),
    IdleHoldTimer_Expires: idle([5, 0]),
    TcpConnection_Valid: ignore('OpenConfirm'),
    Tcp_CR_Invalid: ignore('OpenConfirm'),
    Tcp_CR_Acked: ignore('OpenConfirm'),
    TcpConnectionConfirmed: ignore('OpenConfirm'),
    TcpConnectionFails: idle(null, '+1'),
    BGPOpen: idle([5, 2]),
    BGPHeaderErr: idle([1, 1]),
    BGPOpenMsgErr: idle([2, 2]),
    OpenCollisionDump: idle([6, 7]),
    NotifMsgVerErr: idle(null, '='),
    NotifMsg: idle(null, '+1'),
    KeepAliveMsg: { to: 'Established', send: null, counter: '=', has: ['established', 'startTimer:Hold=9', 'startTimer:Stable=30'] },
    StableTimer_Expires: ignore('OpenConfirm'),
  }, idle([5, 2])),
  // §8.2.2 Established: every way out reports the session down.
  Established: table({
    ...Object.fromEntries(STARTS.map((e) => [e, ignore('Established')])),
    ManualStop: idle([6, 2], '0', { has: ['down'] }),
    AutomaticStop: idle([6, 2], '+1', { has: ['down'] }),
    HoldTimer_Expires: idle([4, 0], '+1', { has: ['down'] }),
    KeepaliveTimer_Expires: { to: 'Established', send: null, counter: '=', has: ['sendKeepalive', 'startTimer:Keepalive=3'] },
    TcpConnection_Valid: ignore('Established'),
    Tcp_CR_Invalid: ignore('Established'),
    Tcp_CR_Acked: ignore('Established'),
    TcpConnectionConfirmed: ignore('Established'),
    TcpConnectionFails: idle(null, '+1', { has: ['down'] }),
    BGPHeaderErr: idle([1, 1], '+1', { has: ['down'] }),
    BGPOpenMsgErr: idle([5, 3], '+1', { has: ['down'] }),
    OpenCollisionDump: idle([6, 7], '+1', { has: ['down'] }),
    NotifMsgVerErr: idle(null, '+1', { has: ['down'] }),
    NotifMsg: idle(null, '+1', { has: ['down'] }),
    KeepAliveMsg: { to: 'Established', send: null, counter: '=', has: ['startTimer:Hold=9'], lacks: ['deliver'] },
    UpdateMsg: { to: 'Established', send: null, counter: '=', has: ['startTimer:Hold=9', 'deliver'] },
    UpdateMsgErr: idle([3, 1], '+1', { has: ['down'] }),
    RouteRefreshMsg: { to: 'Established', send: null, counter: '=', has: ['deliver', 'startTimer:Hold=9'] },
    RouteRefreshMsgErr: idle([7, 1], '+1', { has: ['down'] }),
    StableTimer_Expires: { to: 'Established', send: null, counter: '=' },
    // Unexpected timers: FSM error without a message subcode.
    ConnectRetryTimer_Expires: idle([5, 0], '+1', { has: ['down'] }),
    DelayOpenTimer_Expires: idle([5, 0], '+1', { has: ['down'] }),
    IdleHoldTimer_Expires: idle([5, 0], '+1', { has: ['down'] }),
  }, idle([5, 3], '+1', { has: ['down'] })),
};

function tag(a: FsmAction): string[] {
  switch (a.type) {
    case 'startTimer': return [`startTimer:${a.timer}`, `startTimer:${a.timer}=${a.seconds}`];
    case 'stopTimer': return [`stopTimer:${a.timer}`];
    default: return [a.type];
  }
}

for (const from of Object.keys(TABLE) as SessionState[]) {
  test(`RFC 4271 §8.2.2 ${from}: every event`, () => {
    for (const ev of ALL) {
      const exp = TABLE[from][ev];
      const s = at(from);
      const r = step(s, EVENTS[ev], config);
      const where = `${from} + ${ev}`;
      assert.equal(r.state.state, exp.to, `${where}: next state (${r.reason})`);
      const tags = r.actions.flatMap(tag);
      const sent = r.actions.filter((a): a is Extract<FsmAction, { type: 'sendNotification' }> => a.type === 'sendNotification');
      if (exp.send !== undefined) {
        assert.deepEqual(sent.map((a) => [a.notification.code, a.notification.subcode]), exp.send ? [exp.send] : [], `${where}: NOTIFICATION`);
      }
      const c = r.state.connectRetryCounter;
      if (exp.counter === '+1') assert.equal(c, 4, `${where}: counter incremented`);
      if (exp.counter === '0') assert.equal(c, 0, `${where}: counter zeroed`);
      if (exp.counter === '=') assert.equal(c, from === 'Idle' ? 3 : 3, `${where}: counter unchanged`);
      for (const h of exp.has ?? []) assert.ok(tags.includes(h), `${where}: expected action ${h} in ${tags.join(' ')}`);
      for (const h of exp.lacks ?? []) assert.ok(!tags.includes(h), `${where}: unexpected action ${h}`);
      // Close always comes after the NOTIFICATION it follows.
      const iN = tags.indexOf('sendNotification');
      if (iN >= 0) assert.ok(tags.indexOf('close') > iN, `${where}: NOTIFICATION before close`);
      // Leaving a state is recorded with its reason; staying is not.
      if (exp.to !== from) assert.deepEqual(r.state.history.at(-1), { from, to: exp.to, event: ev, reason: r.reason });
      else assert.equal(r.state.history.length, s.history.length);
      // Going down to Idle stops every timer and restarts by itself unless an operator stopped it.
      if (exp.to === 'Idle' && from !== 'Idle') {
        for (const t of ['ConnectRetry', 'Hold', 'Keepalive', 'DelayOpen']) assert.ok(tags.includes(`stopTimer:${t}`), `${where}: stops ${t}`);
        assert.equal(tags.includes('startTimer:IdleHold'), ev !== 'ManualStop', `${where}: automatic restart`);
        assert.equal(r.state.negotiated, undefined);
      }
    }
  });
}

test('the table covers all six states and every event', () => {
  assert.equal(Object.keys(TABLE).length, 6);
  for (const s of Object.values(TABLE)) assert.equal(Object.keys(s).length, ALL.length);
});

test('Active that is not passive: ConnectRetry expiry connects (§8.2.2 Active, event 9)', () => {
  const r = step(at('Active', { passive: false }), EVENTS.ConnectRetryTimer_Expires, config);
  assert.equal(r.state.state, 'Connect');
  assert.ok(r.actions.some((a) => a.type === 'connect'));
});

test('DelayOpen (§8.2.2): TCP up waits; OPEN from the peer → we send OPEN + KEEPALIVE → OpenConfirm; expiry → OpenSent', () => {
  for (const from of ['Connect', 'Active'] as const) {
    const r1 = step(at(from), EVENTS.Tcp_CR_Acked, withDelay);
    assert.equal(r1.state.state, from);
    assert.equal(r1.state.delayOpenRunning, true);
    assert.deepEqual(r1.actions.flatMap(tag).filter((t) => t.includes('=') || t.startsWith('stop')), ['stopTimer:ConnectRetry', 'startTimer:DelayOpen=2']);
    assert.ok(!r1.actions.some((a) => a.type === 'sendOpen'));

    const r2 = step(r1.state, EVENTS.BGPOpen, withDelay);
    assert.equal(r2.state.state, 'OpenConfirm');
    assert.equal(r2.state.history.at(-1)?.event, 'BGPOpen_with_DelayOpenTimer_running');
    const kinds = r2.actions.map((a) => a.type);
    assert.ok(kinds.indexOf('sendOpen') >= 0 && kinds.indexOf('sendOpen') < kinds.indexOf('sendKeepalive'), 'OPEN then KEEPALIVE');

    const r3 = step(r1.state, EVENTS.DelayOpenTimer_Expires, withDelay);
    assert.equal(r3.state.state, 'OpenSent');
    assert.equal(r3.state.delayOpenRunning, false);

    // A bad OPEN while delaying: NOTIFICATION only if SendNOTIFICATIONwithoutOPEN.
    const bad: OpenMessage = { ...peerOpen, myAs: 65099, parameters: [] };
    const r4 = step(r1.state, { type: 'BGPOpen', open: bad }, withDelay);
    assert.equal(r4.state.state, 'Idle');
    assert.deepEqual(r4.actions.filter((a) => a.type === 'sendNotification').map((a) => (a as { notification: { subcode: number } }).notification.subcode), [2]);
    const r5 = step(r1.state, EVENTS.BGPHeaderErr, withDelay);
    assert.ok(!r5.actions.some((a) => a.type === 'sendNotification'));
    const r6 = step(r1.state, EVENTS.BGPHeaderErr, { ...withDelay, sendNotificationWithoutOpen: true });
    assert.ok(r6.actions.some((a) => a.type === 'sendNotification'));
    // Version error from the peer with DelayOpen running: no penalty.
    assert.equal(step(r1.state, EVENTS.NotifMsgVerErr, withDelay).state.connectRetryCounter, 3);
  }
  // Connect + TCP failure while DelayOpen runs → Active, listening (§8.2.2 Connect, event 18).
  const r = step(at('Connect', { delayOpenRunning: true }), EVENTS.TcpConnectionFails, withDelay);
  assert.equal(r.state.state, 'Active');
  assert.ok(r.actions.flatMap(tag).includes('startTimer:ConnectRetry'));
  // Active + ManualStop with DelayOpen running and NOTIFICATION-without-OPEN: Cease.
  const m = step(at('Active', { delayOpenRunning: true }), EVENTS.ManualStop, { ...withDelay, sendNotificationWithoutOpen: true });
  assert.ok(m.actions.some((a) => a.type === 'sendNotification' && a.notification.code === 6));
});

test('OPEN checks in OpenSent: bad peer AS 2/2, unacceptable hold time 2/6, missing capability 2/7', () => {
  const r = step(at('OpenSent'), { type: 'BGPOpen', open: { ...peerOpen, myAs: 65099, parameters: [] } }, config);
  assert.equal(r.state.state, 'Idle');
  const n = r.actions.find((a) => a.type === 'sendNotification');
  assert.deepEqual(n && n.type === 'sendNotification' ? [n.notification.code, n.notification.subcode] : [], [2, 2]);
  assert.match(r.reason, /Bad Peer AS/);
  const r2 = step(at('OpenSent'), { type: 'BGPOpen', open: { ...peerOpen, holdTime: 4 } }, { ...config, policy: { minHoldTime: 6 } });
  assert.deepEqual(r2.actions.filter((a) => a.type === 'sendNotification').map((a) => (a as { notification: { subcode: number } }).notification.subcode), [6]);
  const r3 = step(at('OpenSent'), EVENTS.BGPOpen, { ...config, policy: { requiredCapabilities: ['route-refresh'] } });
  assert.deepEqual(r3.actions.filter((a) => a.type === 'sendNotification').map((a) => (a as { notification: { subcode: number } }).notification.subcode), [7]);
});

test('hold time 0 negotiated: no keepalive or hold timer in OpenConfirm and Established', () => {
  const r = step(at('OpenSent'), { type: 'BGPOpen', open: { ...peerOpen, holdTime: 0 } }, config);
  assert.equal(r.state.state, 'OpenConfirm');
  const tags = r.actions.flatMap(tag);
  assert.ok(!tags.some((t) => t.startsWith('startTimer:Hold') || t.startsWith('startTimer:Keepalive')));
  assert.ok(tags.includes('stopTimer:Hold'), 'the large OpenSent hold timer is stopped');
  const up = step(r.state, EVENTS.KeepAliveMsg, config);
  assert.equal(up.state.state, 'Established');
  assert.ok(!up.actions.flatMap(tag).includes('startTimer:Hold'));
  assert.deepEqual(step(up.state, EVENTS.UpdateMsg, config).actions.map((a) => a.type), ['deliver']);
});

test('a full walk Idle → Established → Idle, with the history of each change and its reason', () => {
  let s = initialState(config);
  const seq: FsmEventType[] = ['ManualStart', 'Tcp_CR_Acked', 'BGPOpen', 'KeepAliveMsg', 'UpdateMsg', 'NotifMsg'];
  for (const e of seq) s = step(s, EVENTS[e], config).state;
  assert.deepEqual(s.history.map((h) => `${h.from}>${h.to}`), ['Idle>Connect', 'Connect>OpenSent', 'OpenSent>OpenConfirm', 'OpenConfirm>Established', 'Established>Idle']);
  assert.match(s.history.at(-1)!.reason, /Cease\/Administrative Shutdown: "maintenance"/);
  assert.match(s.history[3]!.reason, /AS 65001 \(192\.0\.2\.1\)/);
  // The record is bounded.
  let t = initialState(config);
  for (let i = 0; i < HISTORY_LIMIT + 10; i++) t = transition(t, i % 2 ? 'Idle' : 'Connect', 'ManualStart', `step ${i}`);
  assert.equal(t.history.length, HISTORY_LIMIT);
  assert.equal(t.history.at(-1)!.reason, `step ${HISTORY_LIMIT + 9}`);
});

test('down info carries what was sent or received, with the shutdown communication (RFC 8203)', () => {
  const stop = step(at('Established'), { type: 'ManualStop', notification: { code: 6, subcode: 2, data: shutdownData('upgrade to 2.1') } }, config);
  const down = stop.actions.find((a) => a.type === 'down');
  assert.ok(down && down.type === 'down');
  assert.equal(down.info.notification?.direction, 'sent');
  assert.equal(down.info.negotiated?.peerAs, 65001);
  assert.match(stop.reason, /"upgrade to 2.1"/);
  const recv = step(at('Established'), EVENTS.NotifMsg, config).actions.find((a) => a.type === 'down');
  assert.ok(recv && recv.type === 'down');
  assert.deepEqual([recv.info.notification?.direction, recv.info.notification?.shutdownMessage], ['received', 'maintenance']);
  // A NotifMsg carrying 2/1 is event 24 (no counter change in OpenSent).
  const v = step(at('OpenSent'), { type: 'NotifMsg', notification: notif(2, 1) }, config);
  assert.equal(v.state.connectRetryCounter, 3);
  assert.equal(v.state.history.at(-1)?.event, 'NotifMsgVerErr');
  // AutomaticStop (e.g. max prefix) sends the caller's NOTIFICATION.
  const mp = step(at('Established'), { type: 'AutomaticStop', notification: { code: 6, subcode: 1 } }, config);
  assert.ok(mp.actions.some((a) => a.type === 'sendNotification' && a.notification.code === 6 && a.notification.subcode === 1));
});

test('IdleHold back-off: doubles on each flap up to the maximum, not on a refused connect; a stable session resets it', () => {
  let s = step(initialState(config), EVENTS.ManualStart, config).state;
  const idleHolds: number[] = [];
  const flap = (): void => {
    for (const e of ['Tcp_CR_Acked', 'BGPOpen', 'KeepAliveMsg', 'HoldTimer_Expires'] as const) {
      const r = step(s, EVENTS[e], config);
      s = r.state;
      for (const a of r.actions) if (a.type === 'startTimer' && a.timer === 'IdleHold') idleHolds.push(a.seconds);
    }
    assert.equal(s.state, 'Idle');
    assert.equal(s.idleHoldRunning, true);
    // An automatic start while IdleHold runs waits for it (damping).
    assert.equal(step(s, EVENTS.AutomaticStart, config).state.state, 'Idle');
    s = step(s, EVENTS.IdleHoldTimer_Expires, config).state;
    assert.equal(s.state, 'Connect');
  };
  for (let i = 0; i < 6; i++) flap();
  assert.deepEqual(idleHolds, [5, 10, 20, 40, 60, 60]);
  // A refused connection: IdleHold at the current value, no doubling.
  const refused = step(s, EVENTS.TcpConnectionFails, config);
  assert.deepEqual(refused.actions.flatMap(tag).filter((t) => t.startsWith('startTimer:IdleHold=')), ['startTimer:IdleHold=60']);
  assert.equal(refused.state.idleHoldTime, 60);
  // Stable for stableTime: reset.
  for (const e of ['Tcp_CR_Acked', 'BGPOpen', 'KeepAliveMsg', 'StableTimer_Expires'] as const) s = step(s, EVENTS[e], config).state;
  assert.equal(s.state, 'Established');
  assert.equal(s.idleHoldTime, 5);
  // ManualStop in Idle cancels the automatic restart.
  const down = step(s, EVENTS.TcpConnectionFails, config).state;
  const stopped = step(down, EVENTS.ManualStop, config);
  assert.deepEqual(stopped.actions.flatMap(tag), ['stopTimer:IdleHold']);
  assert.equal(stopped.state.autoRestart, false);
  assert.equal(step(stopped.state, EVENTS.IdleHoldTimer_Expires, config).state.state, 'Idle');
  // A passive session restarts passive.
  const p = step(step(initialState(config), EVENTS.ManualStart_with_PassiveTcpEstablishment, config).state, EVENTS.TcpConnectionFails, config).state;
  assert.equal(step(p, EVENTS.IdleHoldTimer_Expires, config).state.state, 'Active');
});

test('route refresh for a family that was not negotiated is ignored (RFC 2918 §4)', () => {
  const r = step(at('Established'), { type: 'RouteRefreshMsg', family: 'ipv6-unicast' }, config);
  assert.equal(r.state.state, 'Established');
  assert.ok(!r.actions.some((a) => a.type === 'deliver'));
});

test('second connection machine starts in Active, passive, with the session counters', () => {
  const s2 = secondConnectionState(at('OpenSent'));
  assert.deepEqual([s2.state, s2.passive, s2.connectRetryCounter], ['Active', true, 3]);
  const r = step(s2, EVENTS.TcpConnectionConfirmed, config);
  assert.equal(r.state.state, 'OpenSent');
});

test('step is pure: the input state is not modified', () => {
  const s = at('Established');
  const copy = JSON.stringify(s);
  for (const ev of ALL) step(s, EVENTS[ev], config);
  assert.equal(JSON.stringify(s), copy);
});
