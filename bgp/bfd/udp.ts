// BFD over UDP, single hop (RFC 5881): the thin I/O shell around the pure session
// machine. A `BfdManager` owns one receive socket per local address (port 3784) and
// one transmit socket per session (source port 49152–65535, unique per session, TTL 255,
// RFC 5881 §4–5), demultiplexes received packets by Your Discriminator or, when that is
// zero, by source address (RFC 5880 §6.3, §6.8.6), runs the actions of `session.ts`, and
// reports per-peer state for the speaker, the REST API and metrics.
//
// GTSM (RFC 5881 §5, RFC 5082): we send with TTL / hop limit 255, but Node cannot read
// the TTL of a received datagram, so the check "received TTL must be 255" is left to the
// kernel: install the rules of `bfdGtsmNftScript()` in the namespace where the manager
// runs. Without them a packet from further away than one hop would be accepted.
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  BFD_STATE_NAMES,
  BfdDiag,
  BfdState,
  decodeControl,
  diagName,
  encodeControl,
  type BfdControlPacket,
  type BfdDropReason,
  type BfdStateName,
} from './codec.js';
import {
  createSession,
  detectionTimeMs,
  rxIntervalUs,
  step,
  txIntervalUs,
  type BfdAction,
  type BfdEvent,
  type BfdSessionState,
} from './session.js';

export const BFD_CONTROL_PORT = 3784;
export const BFD_SRC_PORT_MIN = 49152;
export const BFD_SRC_PORT_MAX = 65535;

/** Per-neighbor BFD config as the speaker/agent config carries it: `bfd: { minTx, minRx, multiplier }` (ms). */
export interface BfdTimersMs {
  minTx: number;
  minRx: number;
  multiplier: number;
}

export interface BfdPeerConfig extends BfdTimersMs {
  peer: string;
  local: string;
}

export interface BfdCounters {
  rxPackets: number;
  txPackets: number;
  txErrors: number;
  finalsSent: number;
  pollsCompleted: number;
  upTransitions: number;
  downTransitions: number;
  drops: Partial<Record<BfdDropReason, number>>;
}

export interface BfdSnapshot {
  peer: string;
  local: string;
  state: BfdStateName;
  remoteState: BfdStateName;
  diag: string;
  remoteDiag: string;
  localDiscr: number;
  remoteDiscr: number;
  /** Negotiated transmit interval, ms (§6.8.2). */
  txInterval: number;
  /** The peer's agreed transmit interval, ms (what we expect to receive at). */
  rxInterval: number;
  multiplier: number;
  remoteMultiplier: number;
  detectionTimeMs: number;
  /** ms since the session went Up; 0 while not Up. */
  uptime: number;
  counters: BfdCounters;
}

export interface BfdStateEvent {
  peer: string;
  local: string;
  from: BfdStateName;
  to: BfdStateName;
  diag: number;
  diagName: string;
  remoteState: BfdStateName;
  /**
   * The peer said AdminDown (RFC 5882 §3.2: a client SHOULD NOT treat this as a path
   * failure — the peer only stopped BFD).
   */
  remoteAdminDown: boolean;
  at: number;
}

/** Time and timers, injectable for tests. `now()` is monotonic milliseconds. */
export interface BfdClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /**
   * Runs `fn` once the I/O that is already waiting has been handled. The detection timer
   * goes through it: after the process was paused (a busy event loop, a slow host), packets
   * that arrived in time sit in the socket when the timer fires, and must count first.
   */
  afterIo?(fn: () => void): void;
}

export const realClock: BfdClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  // setImmediate runs in the check phase, after the poll phase has read the socket
  afterIo: (fn) => setImmediate(fn),
};

export interface BfdManagerOptions {
  /** UDP port to listen on and send to; 3784 (RFC 5881) unless a test picks another. */
  port?: number;
  clock?: BfdClock;
  random?: () => number;
  /** See `BfdSessionConfig.sendOnStateChange`; default true. */
  sendOnStateChange?: boolean;
}

function canonical(addr: string): string {
  const family = net.isIPv6(addr) ? 'ipv6' : net.isIPv4(addr) ? 'ipv4' : undefined;
  if (!family) throw new TypeError(`not an IP address: ${addr}`);
  return new net.SocketAddress({ address: addr, family }).address;
}

function checkMs(name: string, v: number, min: number): void {
  if (!Number.isFinite(v) || v < min || v * 1000 > 0xffffffff) throw new RangeError(`bfd ${name} out of range: ${v}`);
}

function emptyCounters(): BfdCounters {
  return { rxPackets: 0, txPackets: 0, txErrors: 0, finalsSent: 0, pollsCompleted: 0, upTransitions: 0, downTransitions: 0, drops: {} };
}

function countDrop(d: Partial<Record<BfdDropReason, number>>, reason: BfdDropReason): void {
  d[reason] = (d[reason] ?? 0) + 1;
}

/** One peer's session: state machine, timers, transmit socket. Events: 'up', 'down', 'state'. */
export class BfdPeerSession extends EventEmitter {
  readonly peer: string;
  readonly local: string;
  readonly counters: BfdCounters = emptyCounters();
  private st: BfdSessionState;
  private txTimer: unknown = null;
  private txArmedAt: number | null = null;
  private detectTimer: unknown = null;
  private detectArmedAt: number | null = null;
  private closed = false;

  /** @internal created by BfdManager.add */
  constructor(
    cfg: BfdPeerConfig,
    localDiscr: number,
    private readonly socket: dgram.Socket,
    private readonly port: number,
    private readonly clock: BfdClock,
    private readonly random: () => number,
    sendOnStateChange: boolean,
  ) {
    super();
    this.peer = cfg.peer;
    this.local = cfg.local;
    socket.on('error', () => {
      this.counters.txErrors++;
    });
    const r = createSession(
      { localDiscr, desiredMinTx: Math.round(cfg.minTx * 1000), requiredMinRx: Math.round(cfg.minRx * 1000), detectMult: cfg.multiplier, sendOnStateChange },
      clock.now(),
    );
    this.st = r.state;
  }

  /** @internal starts the periodic transmission (the first packet goes at once). */
  start(): void {
    this.sync();
  }

  get state(): Readonly<BfdSessionState> {
    return this.st;
  }

  get localDiscr(): number {
    return this.st.localDiscr;
  }

  /** Our UDP source port for this session (RFC 5881 §4: 49152–65535). */
  get sourcePort(): number {
    return this.socket.address().port;
  }

  get isUp(): boolean {
    return this.st.sessionState === BfdState.Up;
  }

  snapshot(): BfdSnapshot {
    const s = this.st;
    return {
      peer: this.peer,
      local: this.local,
      state: BFD_STATE_NAMES[s.sessionState],
      remoteState: BFD_STATE_NAMES[s.remoteSessionState],
      diag: diagName(s.localDiag),
      remoteDiag: diagName(s.remoteDiag),
      localDiscr: s.localDiscr,
      remoteDiscr: s.remoteDiscr,
      txInterval: txIntervalUs(s) / 1000,
      rxInterval: rxIntervalUs(s) / 1000,
      multiplier: s.detectMult,
      remoteMultiplier: s.remoteDetectMult,
      detectionTimeMs: detectionTimeMs(s),
      uptime: s.upSince === null ? 0 : Math.max(0, this.clock.now() - s.upSince),
      counters: { ...this.counters, drops: { ...this.counters.drops } },
    };
  }

  /** @internal a packet the manager matched to this session. */
  deliver(packet: BfdControlPacket): void {
    this.counters.rxPackets++;
    this.run({ type: 'rx', now: this.clock.now(), packet });
  }

  /** @internal counts a drop we could attribute to this peer. */
  countDrop(reason: BfdDropReason): void {
    countDrop(this.counters.drops, reason);
  }

  setTimers(t: Partial<BfdTimersMs>): void {
    const timers: { desiredMinTx?: number; requiredMinRx?: number; detectMult?: number } = {};
    if (t.minTx !== undefined) {
      checkMs('minTx', t.minTx, 0.001);
      timers.desiredMinTx = Math.round(t.minTx * 1000);
    }
    if (t.minRx !== undefined) {
      checkMs('minRx', t.minRx, 0);
      timers.requiredMinRx = Math.round(t.minRx * 1000);
    }
    if (t.multiplier !== undefined) timers.detectMult = t.multiplier;
    this.run({ type: 'set-timers', now: this.clock.now(), timers });
  }

  adminDown(diag: number = BfdDiag.AdministrativelyDown): void {
    this.run({ type: 'admin-down', now: this.clock.now(), diag });
  }

  adminUp(): void {
    this.run({ type: 'admin-up', now: this.clock.now() });
  }

  /** @internal stops timers and closes the transmit socket once queued packets are out (at most 200 ms). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.arm('tx', null);
    this.arm('detect', null);
    // Sends normally complete synchronously (uv_udp_try_send); wait for any that queued.
    for (let i = 0; i < 200 && this.socket.getSendQueueCount() > 0; i++) await new Promise((r) => setTimeout(r, 1));
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  private run(ev: BfdEvent): void {
    if (this.closed) return;
    const { state, actions } = step(this.st, ev, { random: this.random });
    this.st = state;
    for (const a of actions) this.act(a);
    this.sync();
  }

  private act(a: BfdAction): void {
    switch (a.type) {
      case 'send':
        this.send(a.packet, a.reason);
        break;
      case 'set-timers':
        break; // `sync()` arms from the state after every step
      case 'state-change': {
        const ev: BfdStateEvent = {
          peer: this.peer,
          local: this.local,
          from: BFD_STATE_NAMES[a.from],
          to: BFD_STATE_NAMES[a.to],
          diag: a.diag,
          diagName: diagName(a.diag),
          remoteState: BFD_STATE_NAMES[a.remoteState],
          remoteAdminDown: a.remoteState === BfdState.AdminDown,
          at: this.clock.now(),
        };
        this.emit('state', ev);
        if (a.to === BfdState.Up) {
          this.counters.upTransitions++;
          this.emit('up', ev);
        } else if (a.from === BfdState.Up) {
          this.counters.downTransitions++;
          this.emit('down', ev);
        }
        break;
      }
      case 'poll-done':
        this.counters.pollsCompleted++;
        break;
      case 'drop':
        countDrop(this.counters.drops, a.reason);
        break;
      default: {
        const never: never = a;
        throw new Error(`unknown BFD action ${String(never)}`);
      }
    }
  }

  private send(packet: BfdControlPacket, reason: string): void {
    const buf = encodeControl(packet);
    this.counters.txPackets++;
    if (reason === 'final') this.counters.finalsSent++;
    try {
      // No callback: errors arrive as the socket's 'error' event (counted there), and the
      // per-packet callback and its tick are saved.
      this.socket.send(buf);
    } catch {
      this.counters.txErrors++;
    }
  }

  /** Arms the two timers from the state's deadlines. A later deadline leaves the armed timer alone: it re-arms when it fires. */
  private sync(): void {
    if (this.closed) return;
    this.syncOne('tx', this.st.nextTxAt);
    this.syncOne('detect', this.st.detectAt);
  }

  private syncOne(kind: 'tx' | 'detect', want: number | null): void {
    const armed = kind === 'tx' ? this.txArmedAt : this.detectArmedAt;
    if (want === null) {
      if (armed !== null) this.arm(kind, null);
    } else if (armed === null || want < armed) {
      this.arm(kind, want);
    }
  }

  private arm(kind: 'tx' | 'detect', at: number | null): void {
    const handle = kind === 'tx' ? this.txTimer : this.detectTimer;
    if (handle !== null) this.clock.clearTimeout(handle);
    let next: unknown = null;
    if (at !== null) {
      const delay = Math.max(0, Math.ceil(at - this.clock.now()));
      next = this.clock.setTimeout(() => this.fire(kind), delay);
    }
    if (kind === 'tx') {
      this.txTimer = next;
      this.txArmedAt = at;
    } else {
      this.detectTimer = next;
      this.detectArmedAt = at;
    }
  }

  private fire(kind: 'tx' | 'detect'): void {
    if (kind === 'tx') {
      this.txTimer = null;
      this.txArmedAt = null;
      this.run({ type: 'tx-timer', now: this.clock.now() });
    } else {
      this.detectTimer = null;
      this.detectArmedAt = null;
      const check = () => {
        if (!this.closed) this.run({ type: 'detect-timer', now: this.clock.now() });
      };
      if (this.clock.afterIo) this.clock.afterIo(check);
      else check();
    }
  }
}

interface RxSocket {
  socket: dgram.Socket;
  users: number;
}

/**
 * Owns all BFD sessions of one process. Events: 'up' / 'down' / 'state' with a
 * `BfdStateEvent`, 'error' for socket errors.
 */
export class BfdManager extends EventEmitter {
  /** Drops of packets we could not attribute to a session, by reason. */
  readonly drops: Partial<Record<BfdDropReason, number>> = {};
  /** Errors reported by receive sockets. */
  rxErrors = 0;
  private readonly port: number;
  private readonly clock: BfdClock;
  private readonly random: () => number;
  private readonly sendOnStateChange: boolean;
  private readonly byPeer = new Map<string, BfdPeerSession>();
  private readonly byDiscr = new Map<number, BfdPeerSession>();
  private readonly rx = new Map<string, RxSocket>();

  constructor(opts: BfdManagerOptions = {}) {
    super();
    this.port = opts.port ?? BFD_CONTROL_PORT;
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.sendOnStateChange = opts.sendOnStateChange ?? true;
  }

  /** Starts a session with `peer` from `local` (both IP addresses of one family); intervals in ms. */
  async add(cfg: BfdPeerConfig): Promise<BfdPeerSession> {
    const peer = canonical(cfg.peer);
    const local = canonical(cfg.local);
    if (net.isIPv6(peer) !== net.isIPv6(local)) throw new TypeError(`bfd: ${cfg.peer} and ${cfg.local} are of different families`);
    if (this.byPeer.has(peer)) throw new Error(`bfd: a session with ${peer} exists already`);
    checkMs('minTx', cfg.minTx, 0.001);
    checkMs('minRx', cfg.minRx, 0);
    if (!Number.isInteger(cfg.multiplier) || cfg.multiplier < 1 || cfg.multiplier > 255) throw new RangeError(`bfd multiplier out of range: ${cfg.multiplier}`);
    await this.acquireRx(local);
    let tx: dgram.Socket;
    try {
      tx = await this.openTx(local, peer);
    } catch (err) {
      this.releaseRx(local);
      throw err;
    }
    const discr = this.allocDiscr();
    const s = new BfdPeerSession({ ...cfg, peer, local }, discr, tx, this.port, this.clock, this.random, this.sendOnStateChange);
    this.byPeer.set(peer, s);
    this.byDiscr.set(discr, s);
    for (const name of ['up', 'down', 'state'] as const) s.on(name, (ev: BfdStateEvent) => this.emit(name, ev));
    s.start();
    return s;
  }

  /**
   * Ends the session with `peer`: one AdminDown packet tells the peer (RFC 5882 §3.2:
   * not a path failure), then the sockets go.
   */
  async remove(peer: string, opts: { silent?: boolean } = {}): Promise<void> {
    const key = canonical(peer);
    const s = this.byPeer.get(key);
    if (!s) return;
    this.byPeer.delete(key);
    this.byDiscr.delete(s.localDiscr);
    // with sendOnStateChange (the default) this sends the AdminDown packet now; a silent
    // removal (a process restarting under graceful restart) just stops, as a crash would
    if (!opts.silent) s.adminDown();
    await s.close();
    this.releaseRx(s.local);
  }

  get(peer: string): BfdPeerSession | undefined {
    return this.byPeer.get(canonical(peer));
  }

  sessions(): BfdPeerSession[] {
    return [...this.byPeer.values()];
  }

  snapshot(): BfdSnapshot[] {
    return this.sessions().map((s) => s.snapshot());
  }

  setTimers(peer: string, t: Partial<BfdTimersMs>): void {
    const s = this.get(peer);
    if (!s) throw new Error(`bfd: no session with ${peer}`);
    s.setTimers(t);
  }

  /** Removes every session: AdminDown to each peer, or nothing at all with `silent` (restart). */
  async close(opts: { silent?: boolean } = {}): Promise<void> {
    await Promise.all([...this.byPeer.keys()].map((p) => this.remove(p, opts)));
  }

  private allocDiscr(): number {
    for (;;) {
      const d = (Math.floor(this.random() * 0xffffffff) + 1) >>> 0;
      if (d !== 0 && !this.byDiscr.has(d)) return d;
    }
  }

  private async acquireRx(local: string): Promise<void> {
    const have = this.rx.get(local);
    if (have) {
      have.users++;
      return;
    }
    const socket = dgram.createSocket({ type: net.isIPv6(local) ? 'udp6' : 'udp4', reuseAddr: false });
    const entry: RxSocket = { socket, users: 1 };
    this.rx.set(local, entry);
    socket.on('message', (msg, rinfo) => this.onMessage(local, msg, rinfo));
    // An 'error' event without a listener would throw: only forward it when someone listens.
    socket.on('error', (err) => {
      this.rxErrors++;
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address: local, port: this.port, exclusive: true }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.rx.delete(local);
      socket.close();
      throw err;
    }
  }

  private releaseRx(local: string): void {
    const e = this.rx.get(local);
    if (!e) return;
    if (--e.users > 0) return;
    this.rx.delete(local);
    e.socket.close();
  }

  /** RFC 5881 §4: source port in 49152–65535, the same for the whole session, unique per session. */
  private async openTx(local: string, peer: string): Promise<dgram.Socket> {
    const span = BFD_SRC_PORT_MAX - BFD_SRC_PORT_MIN + 1;
    let lastErr: unknown;
    for (let i = 0; i < 64; i++) {
      const port = BFD_SRC_PORT_MIN + Math.floor(this.random() * span) % span;
      const socket = dgram.createSocket({ type: net.isIPv6(local) ? 'udp6' : 'udp4' });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind({ address: local, port, exclusive: true }, () => {
            socket.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        lastErr = err;
        socket.close();
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
        throw err;
      }
      // RFC 5881 §5: TTL (IPv4) / Hop Limit (IPv6) 255 on every packet we send.
      socket.setTTL(255);
      // Connected: no per-packet address parsing or route lookup (halves our send cost).
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(this.port, peer, () => {
          socket.off('error', reject);
          resolve();
        });
      }).catch((err) => {
        socket.close();
        throw err;
      });
      // Anything sent to our source port is not BFD control traffic; drain and ignore it.
      socket.on('message', () => {});
      return socket;
    }
    throw lastErr instanceof Error ? lastErr : new Error('bfd: no free source port');
  }

  private onMessage(local: string, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const from = rinfo.address;
    const bySource = this.byPeer.get(from);
    const r = decodeControl(msg);
    if (!r.ok) {
      this.drop(r.reason, bySource?.local === local ? bySource : undefined);
      return;
    }
    const p = r.packet;
    let s: BfdPeerSession | undefined;
    if (p.yourDiscr !== 0) {
      // §6.8.6: a nonzero Your Discriminator selects the session; none → discard.
      s = this.byDiscr.get(p.yourDiscr);
      if (!s) return this.drop('unknown-your-discr', bySource?.local === local ? bySource : undefined);
      // Single hop: the discriminator must also belong to this source and local address.
      if (s.peer !== from || s.local !== local) return this.drop('wrong-source', undefined);
    } else {
      // §6.8.6 / RFC 5881 §3: with Your Discriminator 0, select by source (and local) address.
      s = bySource?.local === local ? bySource : undefined;
      if (!s) return this.drop('no-session', undefined);
    }
    s.deliver(p);
  }

  private drop(reason: BfdDropReason, s: BfdPeerSession | undefined): void {
    countDrop(this.drops, reason);
    s?.countDrop(reason);
  }
}

/** The nftables rule lines that enforce RFC 5881 §5 (GTSM) for BFD control packets. */
export function bfdGtsmRules(port = BFD_CONTROL_PORT): string[] {
  return [`udp dport ${port} ip ttl != 255 drop`, `udp dport ${port} ip6 hoplimit != 255 drop`];
}

/**
 * An idempotent `nft -f` script that installs the GTSM rules in their own table (input
 * hook, before conntrack-dependent filtering). Apply it in each namespace where a
 * BfdManager listens: `nft -f - < script`.
 */
export function bfdGtsmNftScript(table = 'edgeflow_bfd', port = BFD_CONTROL_PORT): string {
  return [
    `table inet ${table} {}`,
    `flush table inet ${table}`,
    `table inet ${table} {`,
    '  chain input {',
    '    type filter hook input priority -150; policy accept;',
    ...bfdGtsmRules(port).map((r) => `    ${r}`),
    '  }',
    '}',
    '',
  ].join('\n');
}
