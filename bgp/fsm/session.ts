// One BGP session (one neighbor) over TCP: the thin shell that runs the pure FSM of
// fsm.ts. It owns the sockets (active connect, or an incoming one handed in by the
// speaker's listener), the Framer, decoding with the negotiated context, writes with
// backpressure, timers on an injected clock with RFC 4271 §10 jitter from an injected
// random source, connection collision detection (§6.8, RFC 6286 §2.3) between a second
// incoming connection and the current one, the graceful-restart takeover of RFC 4724
// §4.2 (a restarting peer's new connection replaces the Established one), counters for
// the API, and the events the RIB listens to.
//
// RFC 7606 in the session: UPDATE errors weaker than afi-safi-disable (attribute-discard,
// treat-as-withdraw) reach the RIB with the error attached; afi-safi-disable and
// session-reset send the NOTIFICATION and drop the session (we do not disable single
// families). Semantic UPDATE checks (families not negotiated, mandatory attributes) are
// the RIB's, with `negotiated` at hand.
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import {
  BgpError, Framer, KEEPALIVE, decodeMessage, encodeMessage, notificationName, shutdownData, toHex,
  type CodecContext, type Message, type OpenMessage, type RouteRefreshMessage, type UpdateMessage,
} from '../codec/index.js';
import {
  FSM_DEFAULTS, initialState, secondConnectionState, step, transition,
  type DownInfo, type FsmAction, type FsmConfig, type FsmEvent, type FsmState, type NotificationSpec, type SessionState, type TimerName,
} from './fsm.js';
import { buildOpen, collisionWinner, type CapabilityConfig, type CapabilityType, type Negotiated } from './negotiate.js';
import type { Family } from '../codec/index.js';

// ------------------------------------------------------------------ injected world

/** Time and timers; tests pass a fake that runs hours in milliseconds. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** What the session needs of a socket; node:net's Socket is one. */
export interface SocketLike {
  write(data: Uint8Array, cb?: (err?: Error | null) => void): boolean;
  end(): unknown;
  destroy(err?: Error): unknown;
  setNoDelay?(noDelay?: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'connect' | 'drain' | 'end', listener: () => void): unknown;
  on(event: 'close', listener: (hadError: boolean) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  readonly destroyed?: boolean;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
}

export interface ConnectOptions {
  host: string;
  port: number;
  localAddress?: string;
  localPort?: number;
}

/** pino-compatible logger shape. */
export interface SessionLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const silent: SessionLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface SessionDeps {
  clock?: Clock;
  /** Uniform [0, 1); drives the timer jitter. */
  random?: () => number;
  /** Opens the outgoing TCP connection; default node:net. */
  connect?: (o: ConnectOptions) => SocketLike;
  /**
   * Sets the IP TTL of a socket (multihop, GTSM). Node cannot set it on TCP sockets: without
   * this hook a configured TTL is logged as not applied (enforce it with nftables instead).
   */
  setTtl?: (socket: SocketLike, ttl: number) => void;
  log?: SessionLogger;
}

// ------------------------------------------------------------------ configuration

export interface SessionOptions {
  peerAddress: string;
  /** Default 179. */
  peerPort?: number;
  /** Source address (and port) of our outgoing connections. */
  localAddress?: string;
  localPort?: number;
  localAs: number;
  routerId: string;
  /** Expected peer ASN; undefined accepts any. */
  peerAs?: number;
  /** Our hold time (s): 0 or ≥ 3. Default 90. */
  holdTime?: number;
  /** Keepalive interval wanted (s); default a third of the negotiated hold time. */
  keepaliveTime?: number;
  /** Smallest non-zero peer hold time accepted; default 3. */
  minHoldTime?: number;
  connectRetryTime?: number;
  openHoldTime?: number;
  delayOpenTime?: number;
  idleHoldTime?: number;
  idleHoldMaxTime?: number;
  stableTime?: number;
  /** Never connect; wait for the peer (RFC 4271 PassiveTcpEstablishment). */
  passive?: boolean;
  capabilities?: CapabilityConfig;
  requiredCapabilities?: CapabilityType[];
  requiredFamilies?: Family[];
  sendNotificationWithoutOpen?: boolean;
  /** RFC 4271 CollisionDetectEstablishedState: a new connection may replace an Established one (by §6.8). */
  collisionDetectEstablished?: boolean;
  /** TTL of our packets (eBGP multihop). */
  ttl?: number;
  /** RFC 5082: send with TTL 255 (the receive check is the kernel's, see NOTES.md). */
  gtsm?: boolean;
  /** After a NOTIFICATION + close, destroy the socket if it has not closed in this many ms. Default 2000. */
  closeTimeoutMs?: number;
}

// ------------------------------------------------------------------ events and counters

export interface SessionDownInfo extends DownInfo {
  /**
   * The peer and we both advertised graceful restart and nothing excludes it (no
   * NOTIFICATION, or RFC 8538 N bit on both sides and no Hard Reset): keep its routes stale.
   */
  gracefulRestart: boolean;
}

export interface SessionEvents {
  stateChange: [from: SessionState, to: SessionState, reason: string];
  established: [negotiated: Negotiated];
  update: [message: UpdateMessage, error?: BgpError];
  routeRefresh: [message: RouteRefreshMessage];
  down: [reason: string, info: SessionDownInfo];
}

export type MessageKind = 'open' | 'update' | 'notification' | 'keepalive' | 'routeRefresh';
export type MessageCounters = Record<MessageKind | 'total', number>;

export interface LastError {
  at: number;
  direction: 'sent' | 'received';
  code: number;
  subcode: number;
  name: string;
  /** Hex of the data field. */
  data: string;
  shutdownMessage?: string;
  message?: string;
}

export interface SessionInfo {
  peerAddress: string;
  peerAs?: number;
  state: SessionState;
  /** Seconds since Established, when up. */
  uptime?: number;
  establishedAt?: number;
  /** Times the session went down from Established. */
  flaps: number;
  connectRetryCounter: number;
  negotiated?: Negotiated;
  messages: { in: MessageCounters; out: MessageCounters };
  lastError?: LastError;
  lastDownReason?: string;
  local?: { address?: string; port?: number };
  remote?: { address?: string; port?: number };
}

export interface HistoryEntry {
  at: number;
  from: SessionState;
  to: SessionState;
  reason: string;
}

/** Options of `stop()`: the NOTIFICATION to send (default Cease/Administrative Shutdown). */
export interface StopOptions {
  code?: number;
  subcode?: number;
  data?: Uint8Array;
  /** RFC 8203/9003 shutdown communication (Cease 2 or 4). */
  message?: string;
  /** Restart by itself after IdleHold (AutomaticStop); default false (ManualStop: stays down until start()). */
  restart?: boolean;
  /**
   * RFC 8538 §5: when both sides set the N bit, Cease 1–4 (max prefixes, administrative
   * shutdown, peer de-configured, administrative reset) go out as a Hard Reset around the
   * Cease, so the peer drops our routes instead of keeping them stale. false sends the bare
   * Cease (the peer keeps graceful-restart state). Default true.
   */
  hardReset?: boolean;
}

/** RFC 8538 §3: a Hard Reset (Cease/9) whose data is the encapsulated code, subcode and data. */
export function hardResetOf(n: NotificationSpec): NotificationSpec {
  const inner = n.data ?? new Uint8Array(0);
  const data = new Uint8Array(2 + inner.length);
  data[0] = n.code;
  data[1] = n.subcode;
  data.set(inner, 2);
  return { ...n, code: 6, subcode: 9, data };
}

// ------------------------------------------------------------------ internals

interface Conn {
  socket: SocketLike;
  direction: 'outgoing' | 'incoming';
  connected: boolean;
  closed: boolean;
  framer: Framer;
  recvCtx: CodecContext;
  sendCtx: CodecContext;
  lastError?: string;
}

interface Machine {
  fsm: FsmState;
  conn?: Conn;
  timers: Map<TimerName, unknown>;
  /** When the running Hold timer really expires (it is restarted on every message: moved, not re-armed). */
  holdDeadline: number;
  /** When the Hold timer's clock timeout fires (≤ holdDeadline). */
  holdFiresAt: number;
  /** Set when the machine is being dropped (collision loser, replaced): only wire actions run. */
  retiring: boolean;
  dead: boolean;
}

interface Queued {
  m: Machine;
  e: FsmEvent;
  msg?: Message;
  err?: BgpError;
}

const KIND_BY_TYPE: Record<number, MessageKind> = { 1: 'open', 2: 'update', 3: 'notification', 4: 'keepalive', 5: 'routeRefresh' };
const EVENT_OF_TIMER: Record<TimerName, FsmEvent['type']> = {
  ConnectRetry: 'ConnectRetryTimer_Expires',
  Hold: 'HoldTimer_Expires',
  Keepalive: 'KeepaliveTimer_Expires',
  DelayOpen: 'DelayOpenTimer_Expires',
  IdleHold: 'IdleHoldTimer_Expires',
  Stable: 'StableTimer_Expires',
};
const newCounters = (): MessageCounters => ({ open: 0, update: 0, notification: 0, keepalive: 0, routeRefresh: 0, total: 0 });
const RESOLVED = Promise.resolve();

/** RFC 4271 §10: jitter multiplies a timer by a random factor in [0.75, 1.0]. The one place jitter is applied. */
export function jitterMs(seconds: number, jitter: boolean, random: () => number): number {
  const ms = seconds * 1000;
  return jitter ? ms * (0.75 + 0.25 * random()) : ms;
}

function defaultConnect(o: ConnectOptions): SocketLike {
  return net.connect({ host: o.host, port: o.port, localAddress: o.localAddress, localPort: o.localPort });
}

// ------------------------------------------------------------------ the session

export class Session extends EventEmitter<SessionEvents> {
  readonly options: Readonly<SessionOptions>;
  /** The OPEN we send (rebuilt by setRestartState). */
  localOpen: OpenMessage;
  readonly config: FsmConfig;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly connectFn: (o: ConnectOptions) => SocketLike;
  private readonly setTtl?: (socket: SocketLike, ttl: number) => void;
  private readonly log: SessionLogger;

  private main: Machine;
  private second: Machine | undefined;
  private readonly queue: Queued[] = [];
  private running = false;

  private readonly history_: HistoryEntry[] = [];
  private readonly countIn = newCounters();
  private readonly countOut = newCounters();
  private lastError_: LastError | undefined;
  private lastDownReason: string | undefined;
  private establishedAt: number | undefined;
  private flaps = 0;
  private lastUpdateSentAt = -Infinity;
  private ttlWarned = false;

  private drain: { promise: Promise<void>; resolve: () => void } | undefined;
  /** Sockets not yet closed, ours or refused ones; stop() resolves when it is empty. */
  private readonly live = new Set<SocketLike>();
  /** stop() callers, each waiting for the sockets that were open when it was called. */
  private stopWaiters: Array<{ sockets: Set<SocketLike>; resolve: () => void }> = [];

  /**
   * Sets or clears the Restart State bit (R) of our graceful-restart capability for the
   * OPENs sent from now on (RFC 4724 §3: set after our own restart). No effect without
   * the capability configured.
   */
  setRestartState(on: boolean): void {
    const caps = this.options.capabilities;
    if (!caps?.gracefulRestart || (caps.gracefulRestart.restarting ?? false) === on) return;
    (this.options as SessionOptions).capabilities = { ...caps, gracefulRestart: { ...caps.gracefulRestart, restarting: on } };
    this.localOpen = buildOpen({ localAs: this.options.localAs, routerId: this.options.routerId, holdTime: this.options.holdTime ?? 90, capabilities: this.options.capabilities });
    this.config.localOpen = this.localOpen;
  }

  constructor(options: SessionOptions, deps: SessionDeps = {}) {
    super();
    const holdTime = options.holdTime ?? 90;
    if (holdTime !== 0 && (holdTime < 3 || holdTime > 0xffff)) throw new RangeError(`hold time ${holdTime} s: must be 0 or 3..65535 (RFC 4271 §4.2)`);
    this.options = { ...options };
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? Math.random;
    this.connectFn = deps.connect ?? defaultConnect;
    this.setTtl = deps.setTtl;
    this.log = deps.log ?? silent;
    this.localOpen = buildOpen({ localAs: options.localAs, routerId: options.routerId, holdTime, capabilities: options.capabilities });
    this.config = {
      localOpen: this.localOpen,
      policy: {
        peerAs: options.peerAs,
        minHoldTime: options.minHoldTime,
        keepaliveTime: options.keepaliveTime,
        requiredCapabilities: options.requiredCapabilities,
        requiredFamilies: options.requiredFamilies,
      },
      connectRetryTime: options.connectRetryTime ?? FSM_DEFAULTS.connectRetryTime,
      openHoldTime: options.openHoldTime ?? FSM_DEFAULTS.openHoldTime,
      delayOpenTime: options.delayOpenTime ?? FSM_DEFAULTS.delayOpenTime,
      idleHoldTime: options.idleHoldTime ?? FSM_DEFAULTS.idleHoldTime,
      idleHoldMaxTime: options.idleHoldMaxTime ?? FSM_DEFAULTS.idleHoldMaxTime,
      stableTime: options.stableTime ?? FSM_DEFAULTS.stableTime,
      sendNotificationWithoutOpen: options.sendNotificationWithoutOpen ?? false,
    };
    this.main = this.newMachine(initialState(this.config));
  }

  // ---------------------------------------------------------------- public surface

  get state(): SessionState {
    return this.main.fsm.state;
  }

  /** Set while the session is OpenConfirm or Established. */
  get negotiated(): Negotiated | undefined {
    return this.main.fsm.negotiated;
  }

  /** The FSM's state (counters, back-off, its own transition record). */
  get fsm(): FsmState {
    return this.main.fsm;
  }

  /** State changes with time, oldest first (at most 64). */
  get history(): readonly HistoryEntry[] {
    return this.history_;
  }

  get lastError(): LastError | undefined {
    return this.lastError_;
  }

  /** Starts the session (ManualStart, or with PassiveTcpEstablishment when configured passive). */
  start(): void {
    this.enqueue(this.main, { type: this.options.passive ? 'ManualStart_with_PassiveTcpEstablishment' : 'ManualStart' });
  }

  /**
   * Stops the session with a NOTIFICATION (default Cease/Administrative Shutdown, RFC 8203
   * text from `message`); e.g. the RIB's max-prefix stop is `stop({ code: 6, subcode: 1 })`.
   * Resolves when the connection is closed.
   */
  stop(o: StopOptions = {}): Promise<void> {
    const code = o.code ?? 6;
    const subcode = o.subcode ?? 2;
    let data = o.data;
    if (!data && o.message !== undefined && code === 6 && (subcode === 2 || subcode === 4)) data = shutdownData(o.message);
    let notification: NotificationSpec = { code, subcode, data, message: o.message };
    const main = this.main.fsm;
    if (code === 6 && subcode >= 1 && subcode <= 4 && o.hardReset !== false && main.state === 'Established' && main.negotiated?.gracefulNotification) {
      notification = hardResetOf(notification);
    }
    const done = new Promise<void>((resolve) => this.stopWaiters.push({ sockets: new Set(this.live), resolve }));
    if (this.second) this.retire(this.second, { type: 'ManualStop', notification });
    this.enqueue(this.main, { type: o.restart ? 'AutomaticStop' : 'ManualStop', notification });
    this.settleStop();
    return done;
  }

  /**
   * Takes an incoming connection from the speaker's listener (already matched to this
   * neighbor by address). Returns false when it was refused and closed: the session is
   * Idle (RFC 4271 §8.2.2), or Established and §6.8 says the new connection loses.
   */
  accept(socket: SocketLike): boolean {
    const main = this.main;
    socket.on('error', () => { /* handled by 'close' */ });
    if (main.fsm.state === 'Idle') {
      this.log.debug({ peer: this.options.peerAddress }, 'incoming connection refused: session Idle');
      socket.destroy();
      return false;
    }
    if (!main.conn || !main.conn.connected) {
      // Connect or Active: the incoming connection is the one; a pending connect is dropped.
      if (main.conn) this.discardConn(main.conn);
      main.conn = this.attach(main, socket, 'incoming', true);
      this.enqueue(main, { type: 'TcpConnectionConfirmed' });
      return true;
    }
    if ((main.fsm.state === 'Established' && !this.options.collisionDetectEstablished && !this.grTakeover()) || this.second) {
      // §6.8: a collision with an Established connection closes the new one.
      this.log.info({ peer: this.options.peerAddress, state: main.fsm.state }, 'incoming connection closed: collision resolution');
      this.rejectSocket(socket, { code: 6, subcode: 7 });
      return false;
    }
    const second = this.newMachine(secondConnectionState(main.fsm));
    this.second = second;
    second.conn = this.attach(second, socket, 'incoming', true);
    this.enqueue(second, { type: 'TcpConnectionConfirmed' });
    return true;
  }

  /**
   * Sends a message (or pre-encoded message bytes) on the Established session. Returns
   * false when the socket's buffer is full: await `writable` before sending more.
   */
  send(msg: Message | Uint8Array): boolean {
    const conn = this.main.conn;
    if (this.main.fsm.state !== 'Established' || !conn || conn.closed) {
      throw new Error(`session to ${this.options.peerAddress} is not Established (${this.main.fsm.state})`);
    }
    const bytes = msg instanceof Uint8Array ? msg : encodeMessage(msg, conn.sendCtx);
    if (bytes[18] === 2) this.lastUpdateSentAt = this.clock.now();
    return this.write(this.main, bytes);
  }

  /** Resolves when the socket can take more (immediately unless a write returned false); also on close. */
  get writable(): Promise<void> {
    return this.drain?.promise ?? RESOLVED;
  }

  /** Codec context for messages we send (add-path, 4-octet AS, extended message). */
  get sendContext(): CodecContext | undefined {
    return this.main.conn?.sendCtx;
  }

  info(): SessionInfo {
    const s = this.main.conn?.socket;
    const i: SessionInfo = {
      peerAddress: this.options.peerAddress,
      peerAs: this.main.fsm.negotiated?.peerAs ?? this.options.peerAs,
      state: this.main.fsm.state,
      flaps: this.flaps,
      connectRetryCounter: this.main.fsm.connectRetryCounter,
      messages: { in: { ...this.countIn }, out: { ...this.countOut } },
    };
    if (this.establishedAt !== undefined) {
      i.establishedAt = this.establishedAt;
      i.uptime = Math.floor((this.clock.now() - this.establishedAt) / 1000);
    }
    if (this.main.fsm.negotiated) i.negotiated = this.main.fsm.negotiated;
    if (this.lastError_) i.lastError = this.lastError_;
    if (this.lastDownReason) i.lastDownReason = this.lastDownReason;
    if (s && this.main.conn?.connected) {
      i.local = { address: s.localAddress, port: s.localPort };
      i.remote = { address: s.remoteAddress, port: s.remotePort };
    }
    return i;
  }

  /** Tears everything down at once (no NOTIFICATION): timers cleared, sockets destroyed. */
  dispose(): void {
    for (const m of [this.main, this.second]) {
      if (!m) continue;
      this.clearTimers(m);
      if (m.conn) this.discardConn(m.conn);
      m.conn = undefined;
    }
    this.second = undefined;
    const before = this.main.fsm;
    this.main.fsm = transition(before, 'Idle', 'ManualStop', 'disposed', { autoRestart: false, idleHoldRunning: false, delayOpenRunning: false, negotiated: undefined });
    if (before.state !== 'Idle') this.recordChange(before.state, 'Idle', 'disposed');
    if (before.state === 'Established') this.sessionDown(this.main, { reason: 'disposed', negotiated: before.negotiated });
    this.resolveDrain();
    this.settleStop();
  }

  // ---------------------------------------------------------------- event loop

  private newMachine(fsm: FsmState): Machine {
    return { fsm, timers: new Map(), holdDeadline: 0, holdFiresAt: 0, retiring: false, dead: false };
  }

  private enqueue(m: Machine, e: FsmEvent, msg?: Message, err?: BgpError): void {
    this.queue.push({ m, e, msg, err });
    if (this.running) return;
    this.running = true;
    try {
      for (let q = this.queue.shift(); q; q = this.queue.shift()) this.dispatch(q);
    } finally {
      this.running = false;
      this.queue.length = 0;
    }
  }

  private dispatch(q: Queued): void {
    const m = q.m;
    if (m.dead) return;
    const from = m.fsm.state;
    const r = step(m.fsm, q.e, this.config);
    m.fsm = r.state;
    if (m === this.main && !m.retiring && r.state.state !== from) this.recordChange(from, r.state.state, r.reason);
    else if (r.state.state !== from) this.log.debug({ peer: this.options.peerAddress, from, to: r.state.state, reason: r.reason }, 'second connection state');
    for (const a of r.actions) this.run(m, a, q);
    this.afterStep(m);
  }

  /** Keeps one live machine: a second connection takes over when the main one lost its socket, and dies when it lost its own. */
  private afterStep(m: Machine): void {
    const second = this.second;
    if (!second) return;
    if (m === second && !second.conn) {
      this.discardMachine(second);
      this.second = undefined;
    } else if (m === this.main && !this.main.conn && second.conn) {
      this.promote(second, this.main.fsm.state, 'the second connection takes over');
    }
  }

  private recordChange(from: SessionState, to: SessionState, reason: string): void {
    this.history_.push({ at: this.clock.now(), from, to, reason });
    if (this.history_.length > 64) this.history_.shift();
    this.log.info({ peer: this.options.peerAddress, from, to, reason }, 'bgp session state');
    this.safeEmit('stateChange', from, to, reason);
  }

  private run(m: Machine, a: FsmAction, q: Queued): void {
    const isMain = m === this.main && !m.retiring;
    switch (a.type) {
      case 'connect':
        if (isMain) this.connect(m);
        return;
      case 'close':
        if (m.conn) this.closeConn(m.conn);
        m.conn = undefined;
        return;
      case 'sendOpen':
        if (m.conn) this.write(m, encodeMessage(this.localOpen));
        return;
      case 'sendKeepalive':
        if (m.conn) this.write(m, KEEPALIVE);
        return;
      case 'sendNotification':
        this.sendNotification(m, a.notification);
        return;
      case 'startTimer':
        if (!m.retiring) this.startTimer(m, a.timer, a.seconds, a.jitter);
        return;
      case 'stopTimer':
        this.stopTimer(m, a.timer);
        return;
      case 'negotiated':
        if (m.conn) {
          m.conn.recvCtx = a.negotiated.receiveContext;
          m.conn.sendCtx = a.negotiated.sendContext;
          m.conn.framer.ctx = a.negotiated.receiveContext;
        }
        return;
      case 'established':
        if (!isMain) return;
        this.establishedAt = this.clock.now();
        this.lastUpdateSentAt = -Infinity;
        this.safeEmit('established', a.negotiated);
        return;
      case 'deliver':
        if (!isMain) return;
        if (q.msg?.type === 'UPDATE') {
          if (q.err) this.log.warn({ peer: this.options.peerAddress, error: q.err.toJSON() }, 'UPDATE error handled by RFC 7606');
          this.safeEmit('update', q.msg, q.err);
        } else if (q.msg?.type === 'ROUTE-REFRESH') {
          this.safeEmit('routeRefresh', q.msg);
        }
        return;
      case 'down':
        if (m !== this.main) return;
        this.sessionDown(m, a.info);
        return;
      case 'releaseResources':
        return;
    }
  }

  private sessionDown(m: Machine, info: DownInfo): void {
    const n = info.negotiated;
    this.flaps++;
    this.establishedAt = undefined;
    this.lastDownReason = info.reason;
    const no = info.notification;
    const gr = !!n?.gracefulRestart && !!n.localGracefulRestart &&
      (!no || (n.gracefulNotification && !(no.code === 6 && no.subcode === 9)));
    const full: SessionDownInfo = { ...info, gracefulRestart: gr };
    this.log.warn({ peer: this.options.peerAddress, reason: info.reason, gracefulRestart: gr }, 'bgp session down');
    this.safeEmit('down', info.reason, full);
  }

  // ---------------------------------------------------------------- connections

  private connect(m: Machine): void {
    if (m.conn) this.discardConn(m.conn);
    const o = this.options;
    let socket: SocketLike;
    try {
      socket = this.connectFn({ host: o.peerAddress, port: o.peerPort ?? 179, localAddress: o.localAddress, localPort: o.localPort });
    } catch (err) {
      // E.g. an invalid local address: a connection failure like any other.
      this.clock.setTimeout(() => this.enqueue(m, { type: 'TcpConnectionFails', reason: (err as Error).message }), 0);
      return;
    }
    const conn = this.attach(m, socket, 'outgoing', false);
    m.conn = conn;
    socket.on('connect', () => {
      if (conn.closed || m.conn !== conn) return;
      conn.connected = true;
      this.enqueue(m, { type: 'Tcp_CR_Acked' });
    });
  }

  private attach(m: Machine, socket: SocketLike, direction: Conn['direction'], connected: boolean): Conn {
    const ctx: CodecContext = { as4: true, addPath: new Set(), extendedMessage: false };
    const conn: Conn = { socket, direction, connected, closed: false, framer: new Framer(ctx), recvCtx: ctx, sendCtx: ctx };
    this.track(socket);
    socket.setNoDelay?.(true);
    const ttl = this.options.gtsm ? 255 : this.options.ttl;
    if (ttl !== undefined) {
      if (this.setTtl) this.setTtl(socket, ttl);
      else if (!this.ttlWarned) {
        this.ttlWarned = true;
        this.log.warn({ peer: this.options.peerAddress, ttl }, 'TTL not applied: Node cannot set it on TCP sockets (enforce with nftables)');
      }
    }
    socket.on('data', (chunk) => this.onData(m, conn, chunk));
    socket.on('drain', () => {
      if (m === this.main && m.conn === conn) this.resolveDrain();
    });
    socket.on('error', (err) => {
      if (!conn.closed) this.log.debug({ peer: this.options.peerAddress, err: err.message }, 'socket error');
      conn.lastError = err.message;
    });
    socket.on('close', () => {
      // a writer waiting for 'drain' on this connection must not wait for ever
      if (m === this.main) this.resolveDrain();
      if (conn.closed) return;
      conn.closed = true;
      if (m.conn === conn) this.enqueue(m, { type: 'TcpConnectionFails', reason: conn.lastError ?? (conn.connected ? 'closed by peer' : 'connect failed') });
    });
    return conn;
  }

  private onData(m: Machine, conn: Conn, chunk: Buffer): void {
    if (conn.closed || m.conn !== conn || m.dead) return;
    const err = conn.framer.push(chunk, (msg) => this.onMessage(m, conn, msg));
    if (err && !conn.closed && m.conn === conn) {
      this.countIn.total++;
      this.enqueue(m, { type: 'BGPHeaderErr', error: err });
    }
  }

  private onMessage(m: Machine, conn: Conn, buf: Buffer): void {
    if (conn.closed || m.conn !== conn || m.dead) return;
    const type = buf[18]!;
    const kind = KIND_BY_TYPE[type];
    this.countIn.total++;
    if (kind) this.countIn[kind]++;
    // UPDATEs before Established are FSM errors whatever they hold: no need to decode.
    if (type === 2 && m.fsm.state !== 'Established') return this.enqueue(m, { type: 'UpdateMsg' });
    const d = decodeMessage(buf, conn.recvCtx);
    if (!d.ok) return this.enqueue(m, this.errorEvent(type, d.error));
    const msg = d.message;
    switch (msg.type) {
      case 'OPEN':
        return this.onOpen(m, msg);
      case 'UPDATE':
        if (d.error && (d.error.action === 'session-reset' || d.error.action === 'afi-safi-disable')) {
          return this.enqueue(m, { type: 'UpdateMsgErr', error: d.error });
        }
        return this.enqueue(m, { type: 'UpdateMsg' }, msg, d.error);
      case 'NOTIFICATION':
        this.lastError_ = {
          at: this.clock.now(), direction: 'received', code: msg.code, subcode: msg.subcode,
          name: notificationName(msg.code, msg.subcode), data: msg.data,
          ...(msg.shutdownMessage !== undefined ? { shutdownMessage: msg.shutdownMessage } : {}),
        };
        this.log.warn({ peer: this.options.peerAddress, notification: this.lastError_ }, 'NOTIFICATION received');
        return this.enqueue(m, { type: 'NotifMsg', notification: msg });
      case 'KEEPALIVE':
        return this.enqueue(m, { type: 'KeepAliveMsg' });
      case 'ROUTE-REFRESH':
        return this.enqueue(m, { type: 'RouteRefreshMsg', family: msg.family }, msg);
    }
  }

  private errorEvent(type: number, error: BgpError): FsmEvent {
    if (error.code === 1) return { type: 'BGPHeaderErr', error };
    if (type === 1) return { type: 'BGPOpenMsgErr', error };
    if (type === 5) return { type: 'RouteRefreshMsgErr', error };
    return type === 2 ? { type: 'UpdateMsgErr', error } : { type: 'BGPHeaderErr', error };
  }

  /** An OPEN arrived on `m`: resolve a collision with the other connection first (§6.8). */
  private onOpen(m: Machine, open: OpenMessage): void {
    const other = m === this.main ? this.second : this.main;
    if (other?.conn?.connected && other.fsm.state !== 'Idle') {
      const mainUp = this.main.fsm.state === 'Established';
      const before = this.main.fsm.state;
      if (mainUp && m === this.second && !this.options.collisionDetectEstablished) {
        if (!this.grTakeover()) {
          // §6.8: the Established connection wins (it got there while this one was opening).
          this.retire(m, { type: 'OpenCollisionDump' });
          this.second = undefined;
          return;
        }
        // RFC 4724 §4.2: a graceful-restart peer reconnecting means its old session is gone.
        this.retire(this.main, { type: 'TcpConnectionFails', reason: 'peer reconnected (graceful restart)' });
        this.promote(m, before, 'peer reconnected: graceful restart takeover');
      } else {
        const cap = open.parameters.flatMap((p) => (p.type === 'capabilities' ? p.capabilities : [])).find((c) => c.type === '4-octet-as');
        const remoteAs = cap?.type === '4-octet-as' ? cap.asn : open.myAs;
        const keep = collisionWinner({ localId: this.options.routerId, remoteId: open.bgpIdentifier, localAs: this.options.localAs, remoteAs });
        const mDir = m.conn!.direction;
        const oDir = other.conn.direction;
        // Same direction (the peer reconnected): the newer connection (the second) stays.
        const loser = mDir === oDir ? this.main : mDir === keep ? other : m;
        this.log.info({ peer: this.options.peerAddress, keep: loser === m ? oDir : mDir, localId: this.options.routerId, remoteId: open.bgpIdentifier }, 'connection collision');
        if (loser === this.main) {
          this.retire(this.main, { type: 'OpenCollisionDump' });
          this.promote(this.second!, before, `connection collision: kept the ${this.second!.conn?.direction} connection`);
        } else {
          this.retire(loser, { type: 'OpenCollisionDump' });
          if (loser === this.second) this.second = undefined;
          return; // the OPEN came on the dumped connection
        }
      }
    }
    this.enqueue(m, { type: 'BGPOpen', open });
  }

  /** RFC 4724 §4.2 applies: Established, and both sides advertised graceful restart. */
  private grTakeover(): boolean {
    const n = this.main.fsm.negotiated;
    return this.main.fsm.state === 'Established' && n?.gracefulRestart !== undefined && n.localGracefulRestart;
  }

  /** Runs a last event on a machine that goes away (only its wire actions and `down`), then discards it. */
  private retire(m: Machine, e: FsmEvent): void {
    const wasMain = m === this.main;
    m.retiring = true;
    const r = step(m.fsm, e, this.config);
    m.fsm = r.state;
    for (const a of r.actions) {
      if (a.type === 'sendNotification' || a.type === 'close') this.run(m, a, { m, e });
      else if (a.type === 'down' && wasMain) this.sessionDown(m, a.info);
    }
    this.discardMachine(m);
  }

  /** `second` becomes the main machine (the old main is already retired or lost its socket). */
  private promote(second: Machine, from: SessionState, reason: string): void {
    const old = this.main;
    if (!old.dead) this.discardMachine(old);
    this.main = second;
    this.second = undefined;
    // The second machine ran passive only to take its one connection; later automatic
    // restarts follow how the session was started (an active session connects again).
    if (second.fsm.passive !== old.fsm.passive) second.fsm = { ...second.fsm, passive: old.fsm.passive };
    this.resolveDrain();
    if (from !== second.fsm.state) this.recordChange(from, second.fsm.state, reason);
  }

  private discardMachine(m: Machine): void {
    this.clearTimers(m);
    if (m.conn) this.discardConn(m.conn);
    m.conn = undefined;
    m.dead = true;
  }

  /** Closes after what was written is flushed; destroys if the peer does not close in time. */
  private closeConn(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    if (!conn.connected) {
      conn.socket.destroy();
      return;
    }
    conn.socket.end();
    const t = this.clock.setTimeout(() => {
      if (!conn.socket.destroyed) conn.socket.destroy();
    }, this.options.closeTimeoutMs ?? 2000);
    conn.socket.on('close', () => this.clock.clearTimeout(t));
    if (this.main.conn === conn || !this.main.conn) this.resolveDrain();
  }

  /** Drops a connection at once, without a word. */
  private discardConn(conn: Conn): void {
    conn.closed = true;
    conn.socket.destroy();
  }

  private track(socket: SocketLike): void {
    this.live.add(socket);
    socket.on('close', () => {
      this.live.delete(socket);
      for (const w of this.stopWaiters) w.sockets.delete(socket);
      this.settleStop();
    });
  }

  private rejectSocket(socket: SocketLike, n: NotificationSpec): void {
    this.track(socket);
    socket.write(encodeMessage({ type: 'NOTIFICATION', code: n.code, subcode: n.subcode, data: n.data ? toHex(n.data) : '' }));
    socket.end();
    const t = this.clock.setTimeout(() => socket.destroy(), this.options.closeTimeoutMs ?? 2000);
    socket.on('close', () => this.clock.clearTimeout(t));
  }

  private sendNotification(m: Machine, n: NotificationSpec): void {
    if (!m.conn || m.conn.closed || !m.conn.connected) return;
    // the shutdown text, also inside a Hard Reset (RFC 8538 §3)
    const wrapped = n.code === 6 && n.subcode === 9 && n.data && n.data.length >= 2;
    const [sc, sd] = wrapped ? [n.data![1]!, n.data!.subarray(2)] : [n.subcode, n.data];
    const shutdown = (!wrapped || n.data![0] === 6) && (sc === 2 || sc === 4) && sd && sd.length > 0
      ? Buffer.from(sd.subarray(1, 1 + sd[0]!)).toString('utf8') : undefined;
    this.lastError_ = {
      at: this.clock.now(), direction: 'sent', code: n.code, subcode: n.subcode, name: notificationName(n.code, n.subcode),
      data: n.data ? toHex(n.data) : '',
      ...(shutdown !== undefined ? { shutdownMessage: shutdown } : {}),
      ...(n.message !== undefined ? { message: n.message } : {}),
    };
    this.log.warn({ peer: this.options.peerAddress, notification: this.lastError_ }, 'NOTIFICATION sent');
    this.write(m, encodeMessage({ type: 'NOTIFICATION', code: n.code, subcode: n.subcode, data: n.data ? toHex(n.data) : '' }));
  }

  private write(m: Machine, bytes: Uint8Array): boolean {
    const conn = m.conn;
    if (!conn || conn.closed) return false;
    const kind = KIND_BY_TYPE[bytes[18]!];
    this.countOut.total++;
    if (kind) this.countOut[kind]++;
    const ok = conn.socket.write(bytes);
    if (!ok && m === this.main && !this.drain) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drain = { promise, resolve };
    }
    return ok;
  }

  private resolveDrain(): void {
    const d = this.drain;
    this.drain = undefined;
    d?.resolve();
  }

  private settleStop(): void {
    const done = this.stopWaiters.filter((w) => w.sockets.size === 0);
    if (!done.length) return;
    this.stopWaiters = this.stopWaiters.filter((w) => w.sockets.size > 0);
    for (const w of done) w.resolve();
  }

  // ---------------------------------------------------------------- timers

  private startTimer(m: Machine, timer: TimerName, seconds: number, jitter: boolean): void {
    const ms = jitterMs(seconds, jitter, this.random);
    if (timer === 'Hold') {
      const deadline = this.clock.now() + ms;
      m.holdDeadline = deadline;
      // A running timeout that fires no later than the new deadline is kept; fire() re-arms it.
      if (m.timers.has('Hold') && m.holdFiresAt <= deadline) return;
      m.holdFiresAt = deadline;
    }
    this.stopTimer(m, timer);
    const h = this.clock.setTimeout(() => this.fire(m, timer, h), ms);
    m.timers.set(timer, h);
  }

  private fire(m: Machine, timer: TimerName, h: unknown): void {
    if (m.dead || m.timers.get(timer) !== h) return;
    m.timers.delete(timer);
    if (timer === 'Hold' && m.holdDeadline > this.clock.now()) {
      m.holdFiresAt = m.holdDeadline;
      const h2 = this.clock.setTimeout(() => this.fire(m, timer, h2), m.holdDeadline - this.clock.now());
      m.timers.set(timer, h2);
      return;
    }
    // §8.2.2 Established: sending an UPDATE restarts the KeepaliveTimer; done lazily here.
    if (timer === 'Keepalive' && m === this.main && m.fsm.state === 'Established') {
      const n = m.fsm.negotiated!;
      const since = this.clock.now() - this.lastUpdateSentAt;
      const due = jitterMs(n.keepaliveTime, true, this.random);
      if (since < due) {
        const h2 = this.clock.setTimeout(() => this.fire(m, timer, h2), due - since);
        m.timers.set(timer, h2);
        return;
      }
    }
    this.enqueue(m, { type: EVENT_OF_TIMER[timer] } as FsmEvent);
  }

  private stopTimer(m: Machine, timer: TimerName): void {
    const h = m.timers.get(timer);
    if (h === undefined) return;
    this.clock.clearTimeout(h);
    m.timers.delete(timer);
  }

  private clearTimers(m: Machine): void {
    for (const h of m.timers.values()) this.clock.clearTimeout(h);
    m.timers.clear();
  }

  /** Names of the running timers of the main connection (for tests and the API). */
  get runningTimers(): TimerName[] {
    return [...this.main.timers.keys()];
  }

  private safeEmit<K extends keyof SessionEvents>(event: K, ...args: SessionEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: SessionEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error({ peer: this.options.peerAddress, event, err: (err as Error).stack ?? String(err) }, 'session listener threw');
    }
  }
}

