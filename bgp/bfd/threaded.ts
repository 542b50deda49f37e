// BFD in its own thread (RFC 5880/5881 via udp.ts's BfdManager, unchanged): a
// `ThreadedBfdManager` runs a BfdManager inside a `node:worker_threads` Worker
// (worker.ts) and mirrors it on the main thread. A worker has its own event loop and
// heap, so its transmit and detection timers keep running while the main thread stalls
// (GC, JIT, schema compilation, synchronous child-process work): a 250 ms stall of the
// agent no longer silences us towards a ToR that detects in 300 ms.
//
// Commands go to the worker by postMessage, in order; events come back in order. The
// worker pushes each session's snapshot with every state change, within 50 ms of any
// other change of its negotiated values (poll done, remote state), and every
// `snapshotIntervalMs` (500 ms); so `snapshot()` stays synchronous: state is current,
// counters may be up to one interval old, `uptime` is extrapolated on this side.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { BfdDiag, diagName, type BfdDropReason } from './codec.js';
import type { BfdPeerConfig, BfdSnapshot, BfdStateEvent, BfdTimersMs } from './udp.js';

/** What the speaker needs of one BFD session; `BfdPeerSession` and `ThreadedBfdSession` both have it. */
export interface BfdSessionLike {
  readonly peer: string;
  readonly local: string;
  on(event: 'up' | 'down' | 'state', fn: (ev: BfdStateEvent) => void): unknown;
  snapshot(): BfdSnapshot;
}

/** What the speaker needs of a BFD manager; `BfdManager` (in process) and `ThreadedBfdManager` both have it. */
export interface BfdManagerLike {
  add(cfg: BfdPeerConfig): Promise<BfdSessionLike>;
  get(peer: string): BfdSessionLike | undefined;
  sessions(): BfdSessionLike[];
  snapshot(): BfdSnapshot[];
  remove(peer: string): Promise<void>;
  setTimers(peer: string, t: Partial<BfdTimersMs>): void;
  /** `silent`: stop without AdminDown (a restart under graceful restart must look like a crash). */
  close(opts?: { silent?: boolean }): Promise<void>;
  on(event: 'error', fn: (err: Error) => void): unknown;
  on(event: 'up' | 'down' | 'state', fn: (ev: BfdStateEvent) => void): unknown;
}

export interface ThreadedBfdManagerOptions {
  /** UDP port to listen on and send to; 3784 (RFC 5881) unless a test picks another. */
  port?: number;
  /** See `BfdManagerOptions.sendOnStateChange`; default true. */
  sendOnStateChange?: boolean;
  /** How often the worker pushes every session's snapshot (counters), ms; default 500. */
  snapshotIntervalMs?: number;
  /** The worker script; default worker.js beside this file. */
  workerUrl?: URL;
}

/** Options the worker receives as `workerData`. */
export interface BfdWorkerData {
  port?: number;
  sendOnStateChange?: boolean;
  snapshotIntervalMs: number;
}

/** Main → worker. */
export type BfdWorkerCommand =
  | { id: number; cmd: 'add'; cfg: BfdPeerConfig }
  | { id: number; cmd: 'remove'; peer: string }
  | { id: number; cmd: 'setTimers'; peer: string; timers: Partial<BfdTimersMs> }
  | { id: number; cmd: 'adminDown'; peer: string; diag: number }
  | { id: number; cmd: 'adminUp'; peer: string }
  | { id: number; cmd: 'close'; silent?: boolean };

/** A snapshot plus when it was taken (epoch ms, `performance.timeOrigin + performance.now()`). */
export interface StampedSnapshot {
  snap: BfdSnapshot;
  stamp: number;
}

/** Worker → main. Event times (`ev.at`) are epoch ms on the wire. */
export type BfdWorkerMessage =
  | { t: 'reply'; id: number; ok: true; result?: { snap: StampedSnapshot; sourcePort: number } }
  | { t: 'reply'; id: number; ok: false; error: { name: string; message: string; code?: string } }
  | { t: 'events'; items: { ev: BfdStateEvent; snap: StampedSnapshot }[] }
  | { t: 'snapshots'; items: StampedSnapshot[]; drops: Partial<Record<BfdDropReason, number>>; rxErrors: number }
  | { t: 'error'; error: { name: string; message: string; code?: string }; fatal?: boolean };

const epochNow = (): number => performance.timeOrigin + performance.now();

function canonical(addr: string): string {
  const family = net.isIPv6(addr) ? 'ipv6' : net.isIPv4(addr) ? 'ipv4' : undefined;
  if (!family) throw new TypeError(`not an IP address: ${addr}`);
  return new net.SocketAddress({ address: addr, family }).address;
}

function checkMs(name: string, v: number, min: number): void {
  if (!Number.isFinite(v) || v < min || v * 1000 > 0xffffffff) throw new RangeError(`bfd ${name} out of range: ${v}`);
}

function toError(e: { name: string; message: string; code?: string }): Error {
  const err = e.name === 'TypeError' ? new TypeError(e.message) : e.name === 'RangeError' ? new RangeError(e.message) : new Error(e.message);
  if (e.code !== undefined) (err as NodeJS.ErrnoException).code = e.code;
  return err;
}

/** The main thread's view of one session in the worker. Events: 'up', 'down', 'state'. */
export class ThreadedBfdSession extends EventEmitter {
  readonly peer: string;
  readonly local: string;
  readonly localDiscr: number;
  /** Our UDP source port for this session (RFC 5881 §4: 49152–65535). */
  readonly sourcePort: number;
  private last: StampedSnapshot;

  /** @internal created by ThreadedBfdManager.add */
  constructor(first: StampedSnapshot, sourcePort: number, private readonly owner: ThreadedBfdManager) {
    super();
    this.peer = first.snap.peer;
    this.local = first.snap.local;
    this.localDiscr = first.snap.localDiscr;
    this.sourcePort = sourcePort;
    this.last = first;
  }

  get isUp(): boolean {
    return this.last.snap.state === 'Up';
  }

  /** The latest snapshot the worker pushed; `uptime` counted to now. */
  snapshot(): BfdSnapshot {
    const { snap, stamp } = this.last;
    const uptime = snap.uptime > 0 ? snap.uptime + Math.max(0, epochNow() - stamp) : 0;
    return { ...snap, uptime, counters: { ...snap.counters, drops: { ...snap.counters.drops } } };
  }

  setTimers(t: Partial<BfdTimersMs>): void {
    this.owner.setTimers(this.peer, t);
  }

  /** Sends the command; failures arrive as the manager's 'error' event. */
  adminDown(diag: number = BfdDiag.AdministrativelyDown): void {
    this.owner.fireAndForget({ cmd: 'adminDown', peer: this.peer, diag });
  }

  adminUp(): void {
    this.owner.fireAndForget({ cmd: 'adminUp', peer: this.peer });
  }

  /** @internal */
  update(s: StampedSnapshot): void {
    if (s.stamp >= this.last.stamp) this.last = s;
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type CommandBody = DistributiveOmit<BfdWorkerCommand, 'id'>;

/**
 * A BfdManager in a worker thread, with BfdManager's surface. Events: 'up' / 'down' /
 * 'state' with a `BfdStateEvent` (`at` in this thread's `performance.now()` time),
 * 'error' for socket errors and a worker that died. The worker starts with the first
 * `add()`; it keeps the process alive only while it has sessions or commands in flight.
 * `clock` and `random` cannot cross threads: this manager always uses real time.
 */
export class ThreadedBfdManager extends EventEmitter implements BfdManagerLike {
  /** Drops of packets the worker could not attribute to a session (as of the last push). */
  drops: Partial<Record<BfdDropReason, number>> = {};
  /** Errors reported by receive sockets (as of the last push). */
  rxErrors = 0;
  private readonly opts: ThreadedBfdManagerOptions;
  private worker?: Worker;
  private closing?: Promise<void>;
  /** Workers we are ending ourselves (their exit is no failure). */
  private readonly ending = new WeakSet<Worker>();
  /** What a worker reported before it died (the reason its exit gives). */
  private readonly lastWorkerError = new WeakMap<Worker, Error>();
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly byPeer = new Map<string, ThreadedBfdSession>();

  constructor(opts: ThreadedBfdManagerOptions = {}) {
    super();
    this.opts = opts;
  }

  /** Starts a session with `peer` from `local` in the worker; intervals in ms. Errors as BfdManager.add throws them. */
  async add(cfg: BfdPeerConfig): Promise<ThreadedBfdSession> {
    const r = (await this.request({ cmd: 'add', cfg: { ...cfg } })) as { snap: StampedSnapshot; sourcePort: number };
    const s = new ThreadedBfdSession(r.snap, r.sourcePort, this);
    this.byPeer.set(s.peer, s);
    this.refresh();
    return s;
  }

  /** Ends the session with `peer` (AdminDown to the peer, then its sockets go). */
  async remove(peer: string): Promise<void> {
    const key = canonical(peer);
    if (!this.byPeer.has(key)) return;
    await this.request({ cmd: 'remove', peer: key });
    this.byPeer.delete(key);
    this.refresh();
  }

  get(peer: string): ThreadedBfdSession | undefined {
    return this.byPeer.get(canonical(peer));
  }

  sessions(): ThreadedBfdSession[] {
    return [...this.byPeer.values()];
  }

  snapshot(): BfdSnapshot[] {
    return this.sessions().map((s) => s.snapshot());
  }

  /** Checked here (throws like BfdManager.setTimers), applied in the worker; worker failures arrive as 'error'. */
  setTimers(peer: string, t: Partial<BfdTimersMs>): void {
    const s = this.get(peer);
    if (!s) throw new Error(`bfd: no session with ${peer}`);
    if (t.minTx !== undefined) checkMs('minTx', t.minTx, 0.001);
    if (t.minRx !== undefined) checkMs('minRx', t.minRx, 0);
    this.fireAndForget({ cmd: 'setTimers', peer: s.peer, timers: { ...t } });
  }

  /** Removes every session (AdminDown to each peer) and ends the worker. The manager can be used again afterwards. */
  async close(opts: { silent?: boolean } = {}): Promise<void> {
    if (this.closing) return this.closing;
    const w = this.worker;
    if (!w) return;
    this.closing = (async () => {
      // A wedged worker must not hang close(): after 2 s it is terminated with what it has.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)));
      await Promise.race([this.request({ cmd: 'close', silent: opts.silent === true }).catch(() => undefined), late]); // errors: the worker is gone already
      clearTimeout(timer);
      this.ending.add(w);
      this.worker = undefined;
      this.byPeer.clear();
      await w.terminate();
    })().finally(() => {
      this.closing = undefined;
    });
    return this.closing;
  }

  /** @internal */
  fireAndForget(body: CommandBody): void {
    this.request(body).catch((err: Error) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  private request(body: CommandBody): Promise<unknown> {
    const w = this.closing && body.cmd !== 'close' ? undefined : this.ensureWorker();
    if (!w) return Promise.reject(new Error('bfd: manager is closing'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.refresh();
      w.postMessage({ id, ...body } as BfdWorkerCommand);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const data: BfdWorkerData = {
      snapshotIntervalMs: this.opts.snapshotIntervalMs ?? 500,
      ...(this.opts.port !== undefined ? { port: this.opts.port } : {}),
      ...(this.opts.sendOnStateChange !== undefined ? { sendOnStateChange: this.opts.sendOnStateChange } : {}),
    };
    const w = new Worker(this.opts.workerUrl ?? new URL('./worker.js', import.meta.url), { workerData: data, name: 'edgeflow-bfd' });
    this.worker = w;
    w.on('message', (m: BfdWorkerMessage) => this.onMessage(m));
    w.on('error', (err) => {
      this.lastWorkerError.set(w, err);
      this.emitError(err);
    });
    w.on('exit', (code) => this.onExit(w, code));
    return w;
  }

  /** The worker holds the process open only while there is something to do (as sockets and timers would in process). */
  private refresh(): void {
    if (!this.worker) return;
    if (this.byPeer.size > 0 || this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private onMessage(m: BfdWorkerMessage): void {
    switch (m.t) {
      case 'reply': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(toError(m.error));
        this.refresh();
        return;
      }
      case 'events':
        for (const { ev, snap } of m.items) {
          const s = this.byPeer.get(ev.peer);
          s?.update(snap);
          this.dispatch(s, { ...ev, at: ev.at - performance.timeOrigin });
        }
        return;
      case 'snapshots':
        for (const snap of m.items) this.byPeer.get(snap.snap.peer)?.update(snap);
        this.drops = m.drops;
        this.rxErrors = m.rxErrors;
        return;
      case 'error': {
        const err = toError(m.error);
        if (m.fatal && this.worker) this.lastWorkerError.set(this.worker, err);
        this.emitError(err);
        return;
      }
      default: {
        const never: never = m;
        throw new Error(`unknown BFD worker message ${String(never)}`);
      }
    }
  }

  /** In the order BfdManager emits: session 'state', manager 'state', then 'up' or 'down' likewise. */
  private dispatch(s: ThreadedBfdSession | undefined, ev: BfdStateEvent): void {
    const names: ('state' | 'up' | 'down')[] = ['state'];
    if (ev.to === 'Up') names.push('up');
    else if (ev.from === 'Up') names.push('down');
    for (const name of names) {
      s?.emit(name, ev);
      this.emit(name, ev);
    }
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /**
   * The worker ended. After close() that is expected; otherwise BFD has stopped for
   * every peer, so each session that the worker did not take down itself reports a
   * change to AdminDown (diag administratively-down; 'down' if it was Up) and the
   * manager is empty. A later add() starts a new worker.
   */
  private onExit(w: Worker, code: number): void {
    if (this.worker === w) this.worker = undefined;
    const cause = this.lastWorkerError.get(w);
    const why = `(code ${code})${cause ? `: ${cause.message}` : ''}`;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new Error(`bfd: worker exited ${why}`, cause ? { cause } : {}));
    }
    if (this.ending.has(w)) return;
    this.emitError(new Error(`bfd: worker exited unexpectedly ${why}`, cause ? { cause } : {}));
    const gone = [...this.byPeer.values()];
    this.byPeer.clear();
    const at = performance.now();
    for (const s of gone) {
      const snap = s.snapshot();
      if (snap.state === 'AdminDown') continue;
      s.update({ snap: { ...snap, state: 'AdminDown', diag: diagName(BfdDiag.AdministrativelyDown) }, stamp: epochNow() });
      this.dispatch(s, {
        peer: s.peer, local: s.local, from: snap.state, to: 'AdminDown', diag: BfdDiag.AdministrativelyDown,
        diagName: diagName(BfdDiag.AdministrativelyDown), remoteState: snap.remoteState, remoteAdminDown: false, at,
      });
    }
  }
}
