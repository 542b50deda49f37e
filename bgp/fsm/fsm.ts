// The BGP finite state machine of one connection (RFC 4271 §8): a pure step function
// `step(state, event, config) → { state, actions, reason }` with the RFC's event names
// (§8.1) and transitions (§8.2.2), DelayOpen, passive mode, IdleHold back-off for a
// flapping peer ("DampPeerOscillations", §8.1.1 leaves the method open), hold-time
// negotiation (via negotiate.ts), FSM errors with RFC 6608 subcodes, shutdown
// communication (RFC 8203/9003) on administrative stop, and the OpenCollisionDump event
// of §6.8 (the shell decides which connection is dumped). No I/O, no clock: timers are
// actions the shell runs. Every state change goes through `transition`, which records it.
//
// Deliberate departures from the letter of §8.2.2, each the practice of FRR/BIRD/GoBGP:
// - no FSM-error NOTIFICATION is sent in answer to a received NOTIFICATION (the peer has
//   already closed); a header error in Established gets its own NOTIFICATION (§6.1),
//   not an FSM error;
// - a passive session never initiates a connection: ConnectRetryTimer_Expires in
//   Active re-arms the timer and stays Active;
// - ManualStop in Idle cancels a pending automatic restart (IdleHold);
// - ROUTE-REFRESH (RFC 2918) is event RouteRefreshMsg: delivered in Established (ignored
//   for a family not negotiated, RFC 2918 §4), an FSM error before that.
import type { Family, NotificationMessage, OpenMessage } from '../codec/index.js';
import { notificationName } from '../codec/index.js';
import { negotiate, type Negotiated, type OpenPolicy } from './negotiate.js';

export type SessionState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';
export const SESSION_STATES: readonly SessionState[] = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

/** The RFC 4271 timers plus `Stable`: Established this long resets the IdleHold back-off. */
export type TimerName = 'ConnectRetry' | 'Hold' | 'Keepalive' | 'DelayOpen' | 'IdleHold' | 'Stable';

/** A NOTIFICATION to send or that was received (BgpError fits). */
export interface NotificationSpec {
  code: number;
  subcode: number;
  data?: Uint8Array;
  /** Human text for logs (BgpError.message). */
  message?: string;
}

/** RFC 4271 §8.1 events (numbers in comments), plus ROUTE-REFRESH and the back-off timer. */
export type FsmEvent =
  | { type: 'ManualStart' } // 1
  | { type: 'ManualStop'; notification?: NotificationSpec } // 2
  | { type: 'AutomaticStart' } // 3
  | { type: 'ManualStart_with_PassiveTcpEstablishment' } // 4
  | { type: 'AutomaticStart_with_PassiveTcpEstablishment' } // 5
  | { type: 'AutomaticStop'; notification?: NotificationSpec } // 8
  | { type: 'ConnectRetryTimer_Expires' } // 9
  | { type: 'HoldTimer_Expires' } // 10
  | { type: 'KeepaliveTimer_Expires' } // 11
  | { type: 'DelayOpenTimer_Expires' } // 12
  | { type: 'IdleHoldTimer_Expires' } // 13
  | { type: 'TcpConnection_Valid' } // 14
  | { type: 'Tcp_CR_Invalid' } // 15
  | { type: 'Tcp_CR_Acked' } // 16
  | { type: 'TcpConnectionConfirmed' } // 17
  | { type: 'TcpConnectionFails'; reason?: string } // 18
  | { type: 'BGPOpen'; open: OpenMessage } // 19
  | { type: 'BGPOpen_with_DelayOpenTimer_running'; open: OpenMessage } // 20
  | { type: 'BGPHeaderErr'; error: NotificationSpec } // 21
  | { type: 'BGPOpenMsgErr'; error: NotificationSpec } // 22
  | { type: 'OpenCollisionDump' } // 23
  | { type: 'NotifMsgVerErr'; notification: NotificationMessage } // 24
  | { type: 'NotifMsg'; notification: NotificationMessage } // 25
  | { type: 'KeepAliveMsg' } // 26
  | { type: 'UpdateMsg' } // 27
  | { type: 'UpdateMsgErr'; error: NotificationSpec } // 28
  | { type: 'RouteRefreshMsg'; family: Family } // RFC 2918
  | { type: 'RouteRefreshMsgErr'; error: NotificationSpec } // RFC 7313 §5
  | { type: 'StableTimer_Expires' };

export type FsmEventType = FsmEvent['type'];

/** How a session ended, for the `down` action. */
export interface DownInfo {
  reason: string;
  /** What the session had negotiated (its families, graceful restart…). */
  negotiated?: Negotiated;
  /** The NOTIFICATION we sent or received, if one ended the session. */
  notification?: NotificationSpec & { direction: 'sent' | 'received'; shutdownMessage?: string };
}

export type FsmAction =
  | { type: 'connect' }
  /** Drop the TCP connection (after what was queued is written). */
  | { type: 'close' }
  | { type: 'sendOpen' }
  | { type: 'sendKeepalive' }
  | { type: 'sendNotification'; notification: NotificationSpec }
  /** (Re)start a timer; `jitter` per RFC 4271 §10 (the shell applies 0.75–1.0). */
  | { type: 'startTimer'; timer: TimerName; seconds: number; jitter: boolean }
  | { type: 'stopTimer'; timer: TimerName }
  /** The OPENs agree: switch the codec to the negotiated contexts. */
  | { type: 'negotiated'; negotiated: Negotiated }
  /** Session up. */
  | { type: 'established'; negotiated: Negotiated }
  /** Hand the received UPDATE / ROUTE-REFRESH to the RIB. */
  | { type: 'deliver' }
  /** Session down after Established: delete the peer's routes (or keep them stale for GR). */
  | { type: 'down'; info: DownInfo }
  | { type: 'releaseResources' };

export interface Transition {
  from: SessionState;
  to: SessionState;
  event: FsmEventType;
  reason: string;
}

export interface FsmState {
  readonly state: SessionState;
  /** RFC 4271 ConnectRetryCounter. */
  readonly connectRetryCounter: number;
  /** The current start was passive (PassiveTcpEstablishment). */
  readonly passive: boolean;
  /** Restart by itself (after IdleHold) when the session drops; cleared by ManualStop. */
  readonly autoRestart: boolean;
  readonly delayOpenRunning: boolean;
  readonly idleHoldRunning: boolean;
  /** Seconds of the next IdleHold (doubles on each flap up to the maximum). */
  readonly idleHoldTime: number;
  /** Set from OpenConfirm on. */
  readonly negotiated?: Negotiated;
  /** The last state changes, oldest first (at most HISTORY_LIMIT). */
  readonly history: readonly Transition[];
}

export interface FsmConfig {
  /** Our OPEN (negotiate.buildOpen). */
  localOpen: OpenMessage;
  /** Checks on the peer's OPEN. */
  policy?: OpenPolicy;
  /** Seconds; RFC 4271 §10 suggests 120. */
  connectRetryTime: number;
  /** The "large value" of the HoldTimer in OpenSent; RFC 4271 §8 suggests 4 minutes. */
  openHoldTime: number;
  /** DelayOpen (s); 0 disables it. */
  delayOpenTime: number;
  /** First IdleHold (s) before an automatic restart; 0 restarts at once. */
  idleHoldTime: number;
  /** IdleHold ceiling (s) for a flapping peer. */
  idleHoldMaxTime: number;
  /** Established this long (s) resets the back-off. */
  stableTime: number;
  /** RFC 4271 SendNOTIFICATIONwithoutOPEN; default false. */
  sendNotificationWithoutOpen?: boolean;
}

export interface StepResult {
  state: FsmState;
  /** Do not modify: hot-path lists are shared. */
  actions: readonly FsmAction[];
  /** Why; also recorded in the history when the state changed. */
  reason: string;
}

export const HISTORY_LIMIT = 64;

export const FSM_DEFAULTS = {
  connectRetryTime: 120,
  openHoldTime: 240,
  delayOpenTime: 0,
  idleHoldTime: 5,
  idleHoldMaxTime: 300,
  stableTime: 60,
} as const;

export function initialState(config: Pick<FsmConfig, 'idleHoldTime'>): FsmState {
  return {
    state: 'Idle',
    connectRetryCounter: 0,
    passive: false,
    autoRestart: false,
    delayOpenRunning: false,
    idleHoldRunning: false,
    idleHoldTime: config.idleHoldTime,
    history: [],
  };
}

/**
 * The machine of a second, incoming connection for the same peer (§6.8): it starts in
 * Active, passive, with the session's counters; feed it TcpConnectionConfirmed.
 */
export function secondConnectionState(main: FsmState): FsmState {
  return { ...main, state: 'Active', passive: true, delayOpenRunning: false, idleHoldRunning: false, negotiated: undefined };
}

/** The one place a state changes; records it. */
export function transition(s: FsmState, to: SessionState, event: FsmEventType, reason: string, patch: Partial<FsmState> = {}): FsmState {
  const next = { ...s, ...patch, state: to } as FsmState;
  if (to === s.state) return next;
  const history = s.history.length >= HISTORY_LIMIT ? s.history.slice(s.history.length - HISTORY_LIMIT + 1) : s.history.slice();
  history.push({ from: s.state, to, event: event, reason });
  return { ...next, history };
}

// ------------------------------------------------------------------ helpers

const FSM_ERROR = 5;
const CEASE = 6;
const HOLD_EXPIRED = 4;
/** RFC 6608 subcodes: unexpected message in OpenSent, OpenConfirm, Established. */
const FSM_SUB: Partial<Record<SessionState, number>> = { OpenSent: 1, OpenConfirm: 2, Established: 3 };

const MESSAGE_EVENTS = new Set<FsmEventType>([
  'BGPOpen', 'BGPOpen_with_DelayOpenTimer_running', 'BGPHeaderErr', 'BGPOpenMsgErr', 'NotifMsgVerErr', 'NotifMsg',
  'KeepAliveMsg', 'UpdateMsg', 'UpdateMsgErr', 'RouteRefreshMsg', 'RouteRefreshMsgErr',
]);

const stop = (timer: TimerName): FsmAction => ({ type: 'stopTimer', timer });
const start = (timer: TimerName, seconds: number, jitter = false): FsmAction => ({ type: 'startTimer', timer, seconds, jitter });
const notify = (n: NotificationSpec): FsmAction => ({ type: 'sendNotification', notification: n });

function describe(n: NotificationSpec & { shutdownMessage?: string }): string {
  const name = notificationName(n.code, n.subcode);
  if (n.shutdownMessage) return `${name}: "${n.shutdownMessage}"`;
  return n.message ? `${name} (${n.message})` : name;
}

interface DropOptions {
  /** NOTIFICATION to send before closing. */
  send?: NotificationSpec;
  /** NOTIFICATION received that ended the session. */
  received?: NotificationMessage;
  /** ConnectRetryCounter: increment (error), zero (manual stop), or keep. */
  counter: 'inc' | 'zero' | 'keep';
  /** Operator stop: no automatic restart. */
  manual?: boolean;
}

/**
 * Every way down to Idle: stop the timers, send the NOTIFICATION (if any), drop the
 * connection, release resources, report the session down if it was up, and schedule
 * the automatic restart after IdleHold. A drop after our OPEN went out doubles the
 * next IdleHold (a flapping peer, §8.1.1 DampPeerOscillations); a failed TCP connect
 * does not.
 */
function drop(s: FsmState, c: FsmConfig, event: FsmEventType, reason: string, o: DropOptions): StepResult {
  const actions: FsmAction[] = [stop('ConnectRetry'), stop('Hold'), stop('Keepalive'), stop('DelayOpen'), stop('Stable')];
  if (o.send) actions.push(notify(o.send));
  actions.push({ type: 'close' }, { type: 'releaseResources' });
  if (s.state === 'Established') {
    const info: DownInfo = { reason };
    if (s.negotiated) info.negotiated = s.negotiated;
    if (o.send) info.notification = { ...o.send, direction: 'sent' };
    else if (o.received) {
      const n = o.received;
      info.notification = { code: n.code, subcode: n.subcode, data: Buffer.from(n.data, 'hex'), direction: 'received' };
      if (n.shutdownMessage !== undefined) info.notification.shutdownMessage = n.shutdownMessage;
    }
    actions.push({ type: 'down', info });
  }
  const counter = o.counter === 'inc' ? s.connectRetryCounter + 1 : o.counter === 'zero' ? 0 : s.connectRetryCounter;
  const autoRestart = o.manual ? false : s.autoRestart;
  let idleHoldTime = s.idleHoldTime;
  let idleHoldRunning = false;
  if (autoRestart) {
    actions.push(start('IdleHold', s.idleHoldTime));
    idleHoldRunning = true;
    const flapped = s.state === 'OpenSent' || s.state === 'OpenConfirm' || s.state === 'Established';
    if (flapped) idleHoldTime = Math.min(Math.max(s.idleHoldTime * 2, 1), c.idleHoldMaxTime);
  }
  const next = transition(s, 'Idle', event, reason, {
    connectRetryCounter: counter,
    autoRestart,
    delayOpenRunning: false,
    idleHoldRunning,
    idleHoldTime,
    negotiated: undefined,
  });
  return { state: next, actions, reason };
}

const stay = (s: FsmState, reason: string, actions: FsmAction[] = []): StepResult => ({ state: s, actions, reason });

/** Hold and keepalive timers for the negotiated hold time (none when it is 0). */
function negotiatedTimers(n: Negotiated): FsmAction[] {
  if (n.holdTime === 0) return [stop('Hold'), stop('Keepalive')];
  return [start('Keepalive', n.keepaliveTime, true), start('Hold', n.holdTime)];
}

function startSession(s: FsmState, c: FsmConfig, event: FsmEventType, passive: boolean, automatic: boolean): StepResult {
  const actions: FsmAction[] = [stop('IdleHold'), start('ConnectRetry', c.connectRetryTime, true)];
  if (!passive) actions.push({ type: 'connect' });
  const reason = `${automatic ? 'automatic' : 'manual'} start${passive ? ', passive: waiting for the peer to connect' : ': connecting'}`;
  const next = transition(s, passive ? 'Active' : 'Connect', event, reason, {
    connectRetryCounter: 0,
    passive,
    autoRestart: true,
    delayOpenRunning: false,
    idleHoldRunning: false,
  });
  return { state: next, actions, reason };
}

/** TCP is up: send OPEN now, or wait DelayOpen (§8.2.2 Connect/Active, events 16/17). */
function tcpUp(s: FsmState, c: FsmConfig, event: FsmEventType): StepResult {
  if (c.delayOpenTime > 0) {
    const reason = `TCP connection up; delaying OPEN ${c.delayOpenTime} s`;
    return { state: transition(s, s.state, event, reason, { delayOpenRunning: true }), actions: [stop('ConnectRetry'), start('DelayOpen', c.delayOpenTime)], reason };
  }
  return sendOpen(s, c, event, 'TCP connection up; OPEN sent', [stop('ConnectRetry')]);
}

function sendOpen(s: FsmState, c: FsmConfig, event: FsmEventType, reason: string, before: FsmAction[]): StepResult {
  const actions = [...before, stop('DelayOpen'), { type: 'sendOpen' } as FsmAction, start('Hold', c.openHoldTime)];
  return { state: transition(s, 'OpenSent', event, reason, { delayOpenRunning: false }), actions, reason };
}

/** Checks and negotiates the peer's OPEN; on success goes to OpenConfirm. */
function openReceived(s: FsmState, c: FsmConfig, event: FsmEventType, open: OpenMessage, delayed: boolean): StepResult {
  const r = negotiate(c.localOpen, open, c.policy);
  if (!r.ok) {
    return drop(s, c, event, `bad OPEN: ${describe(r.error)}`, { send: r.error, counter: 'inc' });
  }
  const n = r.negotiated;
  const actions: FsmAction[] = [stop('ConnectRetry'), stop('DelayOpen')];
  // Event 20: we had delayed our OPEN; it goes out now, then the KEEPALIVE.
  if (delayed) actions.push({ type: 'sendOpen' });
  actions.push({ type: 'negotiated', negotiated: n }, { type: 'sendKeepalive' }, ...negotiatedTimers(n));
  const reason = `OPEN from AS ${n.peerAs} (${n.peerRouterId}) accepted; hold time ${n.holdTime} s`;
  return { state: transition(s, 'OpenConfirm', event, reason, { negotiated: n, delayOpenRunning: false }), actions, reason };
}

/** The NOTIFICATION for an event that has no place in this state (RFC 6608 for messages). */
function fsmError(s: FsmState, e: FsmEvent): NotificationSpec {
  const sub = MESSAGE_EVENTS.has(e.type) ? (FSM_SUB[s.state] ?? 0) : 0;
  return { code: FSM_ERROR, subcode: sub, message: `${e.type} in ${s.state}` };
}

function received(n: NotificationMessage): string {
  return `NOTIFICATION received: ${describe({ code: n.code, subcode: n.subcode, shutdownMessage: n.shutdownMessage })}`;
}

function stopNotification(e: { notification?: NotificationSpec }): NotificationSpec {
  return e.notification ?? { code: CEASE, subcode: 2 };
}

// ------------------------------------------------------------------ the step function

/** One event. Pure: the same inputs always give the same result. */
export function step(s: FsmState, e: FsmEvent, c: FsmConfig): StepResult {
  // RFC 4271 §8.2.2 "Errors in ... : NOTIFICATION with version error" — a received
  // NOTIFICATION 2/1 is event 24 whatever the caller called it.
  if (e.type === 'NotifMsg' && e.notification.code === 2 && e.notification.subcode === 1) {
    e = { type: 'NotifMsgVerErr', notification: e.notification };
  }
  switch (s.state) {
    case 'Idle': return idle(s, e, c);
    case 'Connect': return connectOrActive(s, e, c);
    case 'Active': return connectOrActive(s, e, c);
    case 'OpenSent': return openSent(s, e, c);
    case 'OpenConfirm': return openConfirm(s, e, c);
    case 'Established': return established(s, e, c);
  }
}

function idle(s: FsmState, e: FsmEvent, c: FsmConfig): StepResult {
  switch (e.type) {
    case 'ManualStart': return startSession(s, c, e.type, false, false);
    case 'ManualStart_with_PassiveTcpEstablishment': return startSession(s, c, e.type, true, false);
    // An automatic start waits out a running IdleHold (damping); the timer restarts us.
    case 'AutomaticStart':
    case 'AutomaticStart_with_PassiveTcpEstablishment':
      if (s.idleHoldRunning) return stay(s, `${e.type} deferred: IdleHold running`);
      return startSession(s, c, e.type, e.type === 'AutomaticStart_with_PassiveTcpEstablishment', true);
    case 'IdleHoldTimer_Expires':
      if (!s.autoRestart) return stay(s, 'IdleHold expired; session stopped', []);
      return startSession({ ...s, idleHoldRunning: false }, c, e.type, s.passive, true);
    case 'ManualStop':
      if (s.idleHoldRunning || s.autoRestart) {
        return { state: { ...s, autoRestart: false, idleHoldRunning: false }, actions: [stop('IdleHold')], reason: 'stopped: automatic restart cancelled' };
      }
      return stay(s, 'ManualStop ignored in Idle');
    default:
      // §8.2.2 Idle: every other event is ignored (incoming connections are refused by the shell).
      return stay(s, `${e.type} ignored in Idle`);
  }
}

function connectOrActive(s: FsmState, e: FsmEvent, c: FsmConfig): StepResult {
  const inConnect = s.state === 'Connect';
  switch (e.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'ManualStart_with_PassiveTcpEstablishment':
    case 'AutomaticStart_with_PassiveTcpEstablishment':
      return stay(s, `${e.type} ignored in ${s.state}`);
    case 'ManualStop': {
      // Active with DelayOpen running may send a Cease if NOTIFICATION without OPEN is allowed.
      const send = !inConnect && s.delayOpenRunning && c.sendNotificationWithoutOpen ? stopNotification(e) : undefined;
      return drop(s, c, e.type, 'stopped', { send, counter: 'zero', manual: true });
    }
    case 'ConnectRetryTimer_Expires':
      if (inConnect) {
        const reason = 'ConnectRetry expired: connecting again';
        return { state: transition(s, 'Connect', e.type, reason, { delayOpenRunning: false }), actions: [{ type: 'close' }, stop('DelayOpen'), start('ConnectRetry', c.connectRetryTime, true), { type: 'connect' }], reason };
      }
      if (s.passive) return stay(s, 'ConnectRetry expired; passive: still waiting', [start('ConnectRetry', c.connectRetryTime, true)]);
      {
        const reason = 'ConnectRetry expired: connecting';
        return { state: transition(s, 'Connect', e.type, reason), actions: [start('ConnectRetry', c.connectRetryTime, true), { type: 'connect' }], reason };
      }
    case 'DelayOpenTimer_Expires':
      return sendOpen(s, c, e.type, 'DelayOpen expired; OPEN sent', [stop('ConnectRetry')]);
    case 'TcpConnection_Valid':
    case 'Tcp_CR_Invalid':
      return stay(s, `${e.type}: nothing to do`);
    case 'StableTimer_Expires':
      return stay(s, 'stable timer ignored outside Established');
    case 'Tcp_CR_Acked':
    case 'TcpConnectionConfirmed':
      return tcpUp(s, c, e.type);
    case 'TcpConnectionFails':
      if (inConnect && s.delayOpenRunning) {
        const reason = `TCP connection failed${e.reason ? ` (${e.reason})` : ''}; listening`;
        return { state: transition(s, 'Active', e.type, reason, { delayOpenRunning: false }), actions: [start('ConnectRetry', c.connectRetryTime, true), stop('DelayOpen'), { type: 'close' }], reason };
      }
      // Connect: counter kept; Active: counter incremented (§8.2.2).
      return drop(s, c, e.type, `TCP connection failed${e.reason ? ` (${e.reason})` : ''}`, { counter: inConnect ? 'keep' : 'inc' });
    case 'BGPOpen':
    case 'BGPOpen_with_DelayOpenTimer_running':
      if (s.delayOpenRunning) return openReceived(s, c, e.type === 'BGPOpen' ? 'BGPOpen_with_DelayOpenTimer_running' : e.type, e.open, true);
      return drop(s, c, e.type, `OPEN received in ${s.state} without DelayOpen`, { counter: 'inc' });
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return drop(s, c, e.type, `${e.type === 'BGPHeaderErr' ? 'bad message header' : 'bad OPEN'}: ${describe(e.error)}`, {
        send: c.sendNotificationWithoutOpen ? e.error : undefined,
        counter: 'inc',
      });
    case 'NotifMsgVerErr':
      // With DelayOpen running the peer just refused our version: no penalty (§8.2.2).
      return drop(s, c, e.type, received(e.notification), { counter: s.delayOpenRunning ? 'keep' : 'inc', received: e.notification });
    default:
      // Events 8, 10, 11, 13, 19 (no DelayOpen), 23, 25–28: drop, count, back to Idle.
      return drop(s, c, e.type, unexpectedReason(s, e), {
        counter: 'inc',
        received: e.type === 'NotifMsg' ? e.notification : undefined,
      });
  }
}

function unexpectedReason(s: FsmState, e: FsmEvent): string {
  if (e.type === 'NotifMsg') return received(e.notification);
  if (e.type === 'AutomaticStop') return `automatic stop${e.notification ? `: ${describe(e.notification)}` : ''}`;
  return `${e.type} unexpected in ${s.state}`;
}

/** Events common to OpenSent, OpenConfirm and Established. */
function common(s: FsmState, e: FsmEvent, c: FsmConfig): StepResult | undefined {
  switch (e.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'ManualStart_with_PassiveTcpEstablishment':
    case 'AutomaticStart_with_PassiveTcpEstablishment':
      return stay(s, `${e.type} ignored in ${s.state}`);
    case 'ManualStop': {
      const n = stopNotification(e);
      return drop(s, c, e.type, `stopped: ${describe({ ...n, shutdownMessage: shutdownText(n) })}`, { send: n, counter: 'zero', manual: true });
    }
    case 'AutomaticStop': {
      const n = stopNotification(e);
      return drop(s, c, e.type, `automatic stop: ${describe(n)}`, { send: n, counter: 'inc' });
    }
    case 'HoldTimer_Expires':
      return drop(s, c, e.type, 'hold timer expired', { send: { code: HOLD_EXPIRED, subcode: 0 }, counter: 'inc' });
    // Events 14, 16, 17: a second connection; the shell tracks it for collision detection (§6.8).
    case 'TcpConnection_Valid':
    case 'Tcp_CR_Invalid':
    case 'Tcp_CR_Acked':
    case 'TcpConnectionConfirmed':
      return stay(s, `${e.type}: second connection, tracked for collision detection`);
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      // In Established an OPEN is unexpected whatever its contents: FSM error (RFC 6608).
      if (e.type === 'BGPOpenMsgErr' && s.state === 'Established') return drop(s, c, e.type, 'OPEN received in Established', { send: fsmError(s, e), counter: 'inc' });
      return drop(s, c, e.type, `${e.type === 'BGPHeaderErr' ? 'bad message header' : 'bad OPEN'}: ${describe(e.error)}`, { send: e.error, counter: 'inc' });
    case 'OpenCollisionDump':
      return drop(s, c, e.type, 'connection collision: this connection is dumped', { send: { code: CEASE, subcode: 7 }, counter: 'inc' });
    case 'NotifMsgVerErr':
      return drop(s, c, e.type, received(e.notification), { counter: s.state === 'Established' ? 'inc' : 'keep', received: e.notification });
    case 'NotifMsg':
      return drop(s, c, e.type, received(e.notification), { counter: 'inc', received: e.notification });
    case 'StableTimer_Expires':
      return s.state === 'Established' ? undefined : stay(s, 'stable timer ignored outside Established');
    default:
      return undefined;
  }
}

function shutdownText(n: NotificationSpec): string | undefined {
  if (n.code !== CEASE || (n.subcode !== 2 && n.subcode !== 4) || !n.data || n.data.length < 1) return undefined;
  const len = n.data[0]!;
  if (len + 1 > n.data.length) return undefined;
  return Buffer.from(n.data.subarray(1, 1 + len)).toString('utf8');
}

function openSent(s: FsmState, e: FsmEvent, c: FsmConfig): StepResult {
  const r = common(s, e, c);
  if (r) return r;
  switch (e.type) {
    case 'TcpConnectionFails': {
      const reason = `TCP connection failed${e.reason ? ` (${e.reason})` : ''}; listening`;
      return { state: transition(s, 'Active', e.type, reason), actions: [{ type: 'close' }, stop('Hold'), start('ConnectRetry', c.connectRetryTime, true)], reason };
    }
    case 'BGPOpen':
      return openReceived(s, c, e.type, e.open, false);
    default:
      // Events 9, 11–13, 20, 26–28 and ROUTE-REFRESH: FSM error (5/1 for messages).
      return drop(s, c, e.type, `${e.type} unexpected in OpenSent`, { send: fsmError(s, e), counter: 'inc' });
  }
}

function openConfirm(s: FsmState, e: FsmEvent, c: FsmConfig): StepResult {
  const r = common(s, e, c);
  if (r) return r;
  switch (e.type) {
    case 'KeepaliveTimer_Expires':
      return stay(s, 'keepalive sent', [{ type: 'sendKeepalive' }, start('Keepalive', s.negotiated!.keepaliveTime, true)]);
    case 'TcpConnectionFails':
      return drop(s, c, e.type, `TCP connection failed${e.reason ? ` (${e.reason})` : ''}`, { counter: 'inc' });
    case 'KeepAliveMsg': {
      const n = s.negotiated!;
      const reason = `session up: AS ${n.peerAs} (${n.peerRouterId}), families ${n.families.join(', ')}`;
      const actions: FsmAction[] = n.holdTime > 0 ? [start('Hold', n.holdTime)] : [];
      actions.push(start('Stable', c.stableTime), { type: 'established', negotiated: n });
      return { state: transition(s, 'Established', e.type, reason), actions, reason };
    }
    case 'BGPOpen':
      // A second OPEN on the same connection (a collision on another connection arrives as OpenCollisionDump).
      return drop(s, c, e.type, 'second OPEN on the connection', { send: fsmError(s, e), counter: 'inc' });
    default:
      // Events 9, 12, 13, 20, 27, 28 and ROUTE-REFRESH: FSM error (5/2 for messages).
      return drop(s, c, e.type, `${e.type} unexpected in OpenConfirm`, { send: fsmError(s, e), counter: 'inc' });
  }
}

const HOLD_ONLY = (n: Negotiated): FsmAction[] => (n.holdTime > 0 ? [start('Hold', n.holdTime)] : []);

/** The per-message action lists of Established, built once per negotiation (hot path: one UPDATE each). */
const HOT = new WeakMap<Negotiated, { keepalive: FsmAction[]; update: FsmAction[] }>();
function hot(n: Negotiated): { keepalive: FsmAction[]; update: FsmAction[] } {
  let h = HOT.get(n);
  if (!h) {
    h = { keepalive: HOLD_ONLY(n), update: [...HOLD_ONLY(n), { type: 'deliver' }] };
    HOT.set(n, h);
  }
  return h;
}

function established(s: FsmState, e: FsmEvent, c: FsmConfig): StepResult {
  const r = common(s, e, c);
  if (r) return r;
  const n = s.negotiated!;
  switch (e.type) {
    case 'KeepaliveTimer_Expires':
      return stay(s, 'keepalive sent', [{ type: 'sendKeepalive' }, start('Keepalive', n.keepaliveTime, true)]);
    case 'StableTimer_Expires':
      return { state: { ...s, idleHoldTime: c.idleHoldTime }, actions: [], reason: 'session stable: back-off reset' };
    case 'KeepAliveMsg':
      return stay(s, 'keepalive received', hot(n).keepalive);
    case 'UpdateMsg':
      return stay(s, 'update received', hot(n).update);
    case 'RouteRefreshMsg':
      // RFC 2918 §4: a family we did not negotiate is ignored.
      if (!n.families.includes(e.family)) return stay(s, `route refresh for ${e.family} ignored: not negotiated`, HOLD_ONLY(n));
      return stay(s, 'route refresh received', [...HOLD_ONLY(n), { type: 'deliver' }]);
    case 'UpdateMsgErr':
    case 'RouteRefreshMsgErr':
      return drop(s, c, e.type, `bad ${e.type === 'UpdateMsgErr' ? 'UPDATE' : 'ROUTE-REFRESH'}: ${describe(e.error)}`, { send: e.error, counter: 'inc' });
    case 'TcpConnectionFails':
      return drop(s, c, e.type, `TCP connection failed${e.reason ? ` (${e.reason})` : ''}`, { counter: 'inc' });
    default:
      // Events 9, 12, 13, 19, 20: FSM error (5/3 for messages).
      return drop(s, c, e.type, `${e.type} unexpected in Established`, { send: fsmError(s, e), counter: 'inc' });
  }
}
