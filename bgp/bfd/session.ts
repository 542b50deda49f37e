// One BFD session: the RFC 5880 §6.8 state machine (AdminDown, Down, Init, Up) as a pure
// step function `(state, event) → { state, actions }`. Asynchronous mode, Active role;
// no Demand mode of our own (a peer's D bit is honoured, §6.8.6), no Echo, no
// authentication (packets with the A bit are dropped, §6.8.6).
//
// Time is a number of milliseconds carried by every event (`now`); timers are absolute
// deadlines in the returned state and in `setTimers` actions; jitter comes from the
// injected `random()` in [0, 1). Intervals are microseconds, as on the wire.
//
// RFCs: 5880 §6.5 (poll sequence), §6.8.1 (variables), §6.8.2–6.8.4 (timers, detection
// time), §6.8.6 (reception), §6.8.7 (transmission, jitter), §6.8.16 (administrative control).
import { BfdDiag, BfdState, type BfdControlPacket, type BfdDropReason } from './codec.js';

/** §6.8.3: while not Up, DesiredMinTxInterval is at least one second. */
export const SLOW_TX_US = 1_000_000;

export interface BfdTimerConfig {
  /** Desired Min TX Interval once Up, µs. */
  desiredMinTx: number;
  /** Required Min RX Interval, µs. */
  requiredMinRx: number;
  /** Detect Mult, 1–255. */
  detectMult: number;
}

export interface BfdSessionConfig extends BfdTimerConfig {
  /** bfd.LocalDiscr: unique and nonzero (§6.8.1); the caller allocates it. */
  localDiscr: number;
  /**
   * Send one packet at once on every state change (as FRR and BIRD do) rather than
   * waiting for the periodic timer. This speeds up session bring-up and tells the peer
   * of a change sooner; it goes beyond §6.8.7's rate rule by one packet per change.
   */
  sendOnStateChange?: boolean;
}

/** Poll sequence progress (§6.5, §6.8.3). */
export type PollState =
  | 'idle'
  | 'active' // sending P on periodic packets, waiting for F
  | 'active-dirty' // values changed again while polling: the F we get may not cover them
  | 'await-non-final'; // §6.8.3 choice 3: wait for a packet with F clear, then poll again

export interface BfdSessionState {
  config: Readonly<BfdTimerConfig> & { readonly sendOnStateChange: boolean };
  // RFC 5880 §6.8.1 state variables.
  sessionState: BfdState;
  remoteSessionState: BfdState;
  localDiscr: number;
  remoteDiscr: number;
  localDiag: number;
  /** bfd.DesiredMinTxInterval: what we advertise (≥ 1 s while not Up). */
  desiredMinTx: number;
  /** bfd.RequiredMinRxInterval: what we advertise. */
  requiredMinRx: number;
  /** bfd.RemoteMinRxInterval: initialised to 1 µs (§6.8.1). */
  remoteMinRx: number;
  remoteDemand: boolean;
  detectMult: number;
  // What the peer last told us.
  remoteDesiredMinTx: number;
  remoteDetectMult: number;
  remoteDiag: number;
  // Values in force (they lag an advertised change until the poll ends, §6.8.3).
  /** DesiredMinTx that governs our transmit rate: an increase waits for the poll's F. */
  txDesiredInUse: number;
  /** RequiredMinRx used for the Detection Time: a decrease waits for the poll's F. */
  rxRequiredInUse: number;
  poll: PollState;
  // Timers, absolute ms; null when not armed.
  nextTxAt: number | null;
  detectAt: number | null;
  lastTxAt: number | null;
  lastRxAt: number | null;
  /** When the session last went Up (ms), or null while not Up. */
  upSince: number | null;
}

export type BfdEvent =
  | { type: 'rx'; now: number; packet: BfdControlPacket }
  | { type: 'tx-timer'; now: number }
  | { type: 'detect-timer'; now: number }
  | { type: 'admin-down'; now: number; diag?: number }
  | { type: 'admin-up'; now: number }
  | { type: 'set-timers'; now: number; timers: Partial<BfdTimerConfig> };

export type BfdAction =
  | { type: 'send'; packet: BfdControlPacket; reason: 'periodic' | 'final' | 'state-change' }
  | { type: 'set-timers'; txAt: number | null; detectAt: number | null }
  | { type: 'state-change'; from: BfdState; to: BfdState; diag: number; remoteState: BfdState; remoteDiag: number }
  | { type: 'poll-done' }
  | { type: 'drop'; reason: BfdDropReason };

export interface BfdStepResult {
  state: BfdSessionState;
  actions: BfdAction[];
}

export interface BfdStepContext {
  /** Uniform in [0, 1); used for transmit jitter (§6.8.7). */
  random: () => number;
}

function checkTimers(t: BfdTimerConfig): void {
  if (!Number.isInteger(t.desiredMinTx) || t.desiredMinTx < 1 || t.desiredMinTx > 0xffffffff) throw new RangeError(`desiredMinTx: ${t.desiredMinTx}`);
  if (!Number.isInteger(t.requiredMinRx) || t.requiredMinRx < 0 || t.requiredMinRx > 0xffffffff) throw new RangeError(`requiredMinRx: ${t.requiredMinRx}`);
  // §6.8.1: bfd.DetectMult MUST be a nonzero integer.
  if (!Number.isInteger(t.detectMult) || t.detectMult < 1 || t.detectMult > 255) throw new RangeError(`detectMult: ${t.detectMult}`);
}

/** Creates a session in Down (§6.8.1) and asks for its first packet at once (Active role, §6.1). */
export function createSession(cfg: BfdSessionConfig, now: number): BfdStepResult {
  checkTimers(cfg);
  if (!Number.isInteger(cfg.localDiscr) || cfg.localDiscr < 1 || cfg.localDiscr > 0xffffffff) throw new RangeError(`localDiscr: ${cfg.localDiscr}`);
  const desiredMinTx = Math.max(cfg.desiredMinTx, SLOW_TX_US);
  const state: BfdSessionState = {
    config: { desiredMinTx: cfg.desiredMinTx, requiredMinRx: cfg.requiredMinRx, detectMult: cfg.detectMult, sendOnStateChange: cfg.sendOnStateChange ?? true },
    sessionState: BfdState.Down,
    remoteSessionState: BfdState.Down,
    localDiscr: cfg.localDiscr,
    remoteDiscr: 0,
    localDiag: BfdDiag.None,
    desiredMinTx,
    requiredMinRx: cfg.requiredMinRx,
    remoteMinRx: 1,
    remoteDemand: false,
    detectMult: cfg.detectMult,
    remoteDesiredMinTx: 0,
    remoteDetectMult: 0,
    remoteDiag: 0,
    txDesiredInUse: desiredMinTx,
    rxRequiredInUse: cfg.requiredMinRx,
    poll: 'idle',
    nextTxAt: now,
    detectAt: null,
    lastTxAt: null,
    lastRxAt: null,
    upSince: null,
  };
  return { state, actions: [{ type: 'set-timers', txAt: now, detectAt: null }] };
}

/** The interval we transmit at, µs (§6.8.2, §6.8.7): the larger of ours and the peer's RX. */
export function txIntervalUs(s: BfdSessionState): number {
  return Math.max(s.txDesiredInUse, s.remoteMinRx);
}

/** The peer's agreed transmit interval, µs (§6.8.4): the larger of our RX and its TX. */
export function rxIntervalUs(s: BfdSessionState): number {
  return Math.max(s.rxRequiredInUse, s.remoteDesiredMinTx);
}

/** Detection Time in ms (§6.8.4, asynchronous mode); 0 before the peer was heard. */
export function detectionTimeMs(s: BfdSessionState): number {
  return (s.remoteDetectMult * rxIntervalUs(s)) / 1000;
}

/**
 * One jittered transmit gap in ms (§6.8.7): the interval reduced by 0–25 %, or — when
 * bfd.DetectMult is 1 — between 75 % and 90 % of it.
 */
export function jitteredGapMs(intervalUs: number, detectMult: number, random: () => number): number {
  const r = Math.min(Math.max(random(), 0), 1);
  const factor = detectMult === 1 ? 0.75 + 0.15 * r : 1 - 0.25 * r;
  return (intervalUs * factor) / 1000;
}

/** §6.8.6, §6.8.7: periodic packets stop while Demand mode is active on the peer, or when its RX is 0. */
function periodicAllowed(s: BfdSessionState): boolean {
  if (s.remoteMinRx === 0) return false;
  const remoteDemandActive = s.remoteDemand && s.sessionState === BfdState.Up && s.remoteSessionState === BfdState.Up;
  return !remoteDemandActive || s.poll === 'active' || s.poll === 'active-dirty';
}

/** The packet we would send now (§6.8.7 "contents of transmitted BFD Control packets"). */
export function buildPacket(s: BfdSessionState, flags: { poll?: boolean; final?: boolean } = {}): BfdControlPacket {
  return {
    diag: s.localDiag,
    state: s.sessionState,
    poll: flags.poll ?? false,
    final: flags.final ?? false,
    cpi: false, // we share fate with our control plane
    demand: false, // we never ask for Demand mode
    detectMult: s.detectMult,
    myDiscr: s.localDiscr,
    yourDiscr: s.remoteDiscr,
    desiredMinTx: s.desiredMinTx,
    requiredMinRx: s.requiredMinRx,
    requiredMinEchoRx: 0, // no Echo function
  };
}

/** Advances the session by one event. `state` is not mutated; a new object is returned. */
export function step(prev: BfdSessionState, ev: BfdEvent, ctx: BfdStepContext): BfdStepResult {
  const s: BfdSessionState = { ...prev };
  const actions: BfdAction[] = [];
  const before = { txAt: prev.nextTxAt, detectAt: prev.detectAt };
  switch (ev.type) {
    case 'rx':
      receive(s, ev.packet, ev.now, ctx, actions);
      break;
    case 'tx-timer':
      onTxTimer(s, ev.now, ctx, actions);
      break;
    case 'detect-timer':
      onDetectTimer(s, ev.now, ctx, actions);
      break;
    case 'admin-down':
      // §6.8.16: set AdminDown and an appropriate diagnostic; packets keep going out.
      if (s.sessionState !== BfdState.AdminDown) transition(s, BfdState.AdminDown, ev.diag ?? BfdDiag.AdministrativelyDown, ev.now, ctx, actions);
      break;
    case 'admin-up':
      // §6.8.16: to enable, set bfd.SessionState to Down.
      if (s.sessionState === BfdState.AdminDown) transition(s, BfdState.Down, BfdDiag.None, ev.now, ctx, actions);
      break;
    case 'set-timers':
      setTimers(s, ev.timers, ev.now, ctx);
      break;
    default: {
      const never: never = ev;
      throw new Error(`unknown BFD event ${String((never as { type: string }).type)}`);
    }
  }
  if (s.nextTxAt !== before.txAt || s.detectAt !== before.detectAt) {
    actions.push({ type: 'set-timers', txAt: s.nextTxAt, detectAt: s.detectAt });
  }
  return { state: s, actions };
}

/** §6.8.6 reception, for a packet that passed the codec's checks and was matched to us. */
function receive(s: BfdSessionState, p: BfdControlPacket, now: number, ctx: BfdStepContext, actions: BfdAction[]): void {
  // §6.8.6: A bit set and no authentication in use → discard.
  if (p.auth) {
    actions.push({ type: 'drop', reason: 'auth-not-in-use' });
    return;
  }
  const oldTx = txIntervalUs(s);
  s.remoteDiscr = p.myDiscr;
  s.remoteSessionState = p.state;
  s.remoteDemand = p.demand;
  s.remoteMinRx = p.requiredMinRx;
  s.remoteDesiredMinTx = p.desiredMinTx;
  s.remoteDetectMult = p.detectMult;
  s.remoteDiag = p.diag;
  // §6.8.6: Final while polling terminates the poll sequence; the held values take effect (§6.8.3).
  if (p.final && (s.poll === 'active' || s.poll === 'active-dirty')) {
    if (s.poll === 'active') {
      s.txDesiredInUse = s.desiredMinTx;
      s.rxRequiredInUse = s.requiredMinRx;
      s.poll = 'idle';
      actions.push({ type: 'poll-done' });
    } else {
      s.poll = 'await-non-final';
    }
  } else if (!p.final && s.poll === 'await-non-final') {
    s.poll = 'active';
  }
  // §6.8.3: a reduced RemoteMinRx is honoured at once; any change re-times the next packet (§6.8.7).
  retimeTx(s, oldTx, now, ctx);
  // §6.8.6: in AdminDown the packet is discarded here (it does not count for detection).
  if (s.sessionState === BfdState.AdminDown) return;
  // §6.8.4 / §6.8.6: the packet was received for the purposes of the Detection Time.
  s.lastRxAt = now;
  s.detectAt = now + detectionTimeMs(s);

  const st = s.sessionState;
  if (p.state === BfdState.AdminDown) {
    // §6.8.6: remote AdminDown → Down with diag 3 unless already Down.
    if (st !== BfdState.Down) transition(s, BfdState.Down, BfdDiag.NeighborSignaledSessionDown, now, ctx, actions);
  } else if (st === BfdState.Down) {
    if (p.state === BfdState.Down) transition(s, BfdState.Init, BfdDiag.None, now, ctx, actions);
    else if (p.state === BfdState.Init) transition(s, BfdState.Up, BfdDiag.None, now, ctx, actions);
  } else if (st === BfdState.Init) {
    if (p.state === BfdState.Init || p.state === BfdState.Up) transition(s, BfdState.Up, BfdDiag.None, now, ctx, actions);
  } else if (st === BfdState.Up) {
    if (p.state === BfdState.Down) transition(s, BfdState.Down, BfdDiag.NeighborSignaledSessionDown, now, ctx, actions);
  }
  // Periodic transmission may have to stop or resume (remote Demand mode, §6.8.6).
  if (!periodicAllowed(s)) s.nextTxAt = null;
  else if (s.nextTxAt === null) scheduleTx(s, now, ctx);
  // §6.8.7: answer a Poll with a Final at once, whatever the state or timers; P and F never together (§6.5).
  if (p.poll) sendNow(s, now, ctx, actions, 'final', { final: true }, false);
}

function onTxTimer(s: BfdSessionState, now: number, ctx: BfdStepContext, actions: BfdAction[]): void {
  if (s.nextTxAt === null) return;
  if (now < s.nextTxAt) return; // early or stale timer: keep the deadline
  if (!periodicAllowed(s)) {
    s.nextTxAt = null;
    return;
  }
  // §6.5: a poll rides on the scheduled periodic packets; no extra packets.
  sendNow(s, now, ctx, actions, 'periodic', { poll: s.poll === 'active' || s.poll === 'active-dirty' }, true);
}

function onDetectTimer(s: BfdSessionState, now: number, ctx: BfdStepContext, actions: BfdAction[]): void {
  if (s.detectAt === null || now < s.detectAt) return;
  s.detectAt = null;
  // §6.8.1: bfd.RemoteDiscr is zeroed after a Detection Time without packets. We forget the
  // peer's state too, so a snapshot never shows a silent peer as Up.
  s.remoteDiscr = 0;
  s.remoteSessionState = BfdState.Down;
  s.remoteDemand = false;
  // §6.8.4: Detection Time passed in Init or Up → Down, diag 1.
  if (s.sessionState === BfdState.Init || s.sessionState === BfdState.Up) {
    transition(s, BfdState.Down, BfdDiag.ControlDetectionTimeExpired, now, ctx, actions);
  }
  if (periodicAllowed(s) && s.nextTxAt === null) scheduleTx(s, now, ctx);
}

/** Every state change goes through here: timers per §6.8.3, records, notification. */
function transition(s: BfdSessionState, to: BfdState, diag: number, now: number, ctx: BfdStepContext, actions: BfdAction[]): void {
  const from = s.sessionState;
  s.sessionState = to;
  s.localDiag = diag;
  s.upSince = to === BfdState.Up ? now : null;
  // §6.8.3: DesiredMinTx is at least 1 s while not Up; the configured value once Up.
  const desired = to === BfdState.Up ? s.config.desiredMinTx : Math.max(s.config.desiredMinTx, SLOW_TX_US);
  changeAdvertised(s, desired, s.requiredMinRx, now, ctx, to === BfdState.Up);
  actions.push({ type: 'state-change', from, to, diag, remoteState: s.remoteSessionState, remoteDiag: s.remoteDiag });
  if (s.config.sendOnStateChange && periodicAllowed(s)) {
    sendNow(s, now, ctx, actions, 'state-change', { poll: s.poll === 'active' || s.poll === 'active-dirty' }, true);
  }
}

function setTimers(s: BfdSessionState, t: Partial<BfdTimerConfig>, now: number, ctx: BfdStepContext): void {
  const cfg = { ...s.config, ...definedOnly(t) };
  checkTimers(cfg);
  s.config = cfg;
  s.detectMult = cfg.detectMult;
  const desired = s.sessionState === BfdState.Up ? cfg.desiredMinTx : Math.max(cfg.desiredMinTx, SLOW_TX_US);
  changeAdvertised(s, desired, cfg.requiredMinRx, now, ctx, s.sessionState === BfdState.Up);
}

function definedOnly(t: Partial<BfdTimerConfig>): Partial<BfdTimerConfig> {
  const out: Partial<BfdTimerConfig> = {};
  if (t.desiredMinTx !== undefined) out.desiredMinTx = t.desiredMinTx;
  if (t.requiredMinRx !== undefined) out.requiredMinRx = t.requiredMinRx;
  if (t.detectMult !== undefined) out.detectMult = t.detectMult;
  return out;
}

/**
 * Changes the advertised intervals. §6.8.3: any change starts a poll; while Up (`holdIfUp`)
 * an increased TX interval and a reduced RX interval wait for the poll's Final, while the
 * safe directions (faster TX, slower RX) apply at once.
 */
function changeAdvertised(s: BfdSessionState, desiredMinTx: number, requiredMinRx: number, now: number, ctx: BfdStepContext, holdIfUp: boolean): void {
  if (desiredMinTx === s.desiredMinTx && requiredMinRx === s.requiredMinRx) return;
  const oldTx = txIntervalUs(s);
  const oldRx = s.rxRequiredInUse;
  s.desiredMinTx = desiredMinTx;
  s.requiredMinRx = requiredMinRx;
  if (!holdIfUp || desiredMinTx < s.txDesiredInUse) s.txDesiredInUse = desiredMinTx;
  if (!holdIfUp || requiredMinRx > s.rxRequiredInUse) s.rxRequiredInUse = requiredMinRx;
  s.poll = s.poll === 'idle' ? 'active' : s.poll === 'active' ? 'active-dirty' : s.poll;
  retimeTx(s, oldTx, now, ctx);
  if (s.rxRequiredInUse !== oldRx && s.lastRxAt !== null && s.detectAt !== null) s.detectAt = s.lastRxAt + detectionTimeMs(s);
}

/** §6.8.7: the transmit interval is recalculated whenever either input changes. */
function retimeTx(s: BfdSessionState, oldTxUs: number, now: number, ctx: BfdStepContext): void {
  if (txIntervalUs(s) === oldTxUs || s.nextTxAt === null) return;
  const base = s.lastTxAt ?? now;
  s.nextTxAt = Math.max(now, base + jitteredGapMs(txIntervalUs(s), s.detectMult, ctx.random));
}

function scheduleTx(s: BfdSessionState, now: number, ctx: BfdStepContext): void {
  s.nextTxAt = now + jitteredGapMs(txIntervalUs(s), s.detectMult, ctx.random);
}

function sendNow(
  s: BfdSessionState,
  now: number,
  ctx: BfdStepContext,
  actions: BfdAction[],
  reason: 'periodic' | 'final' | 'state-change',
  flags: { poll?: boolean; final?: boolean },
  restartPeriodic: boolean,
): void {
  actions.push({ type: 'send', packet: buildPacket(s, flags), reason });
  if (!restartPeriodic) return;
  s.lastTxAt = now;
  if (periodicAllowed(s)) scheduleTx(s, now, ctx);
  else s.nextTxAt = null;
}
