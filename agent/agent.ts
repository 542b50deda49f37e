// The per-compute agent: watches the intent that concerns its chassis, and from one
// level-triggered reconcile loop drives the kernel NAT (nat/) and the BGP speaker
// (bgp/speaker) to what dynrouting says this chassis must do. Order inside a pass is
// make-before-break: NAT additions, then route announcements and withdrawals, then NAT
// removals, then the activeChassis claim in the store (which lets the old chassis go).
// The loop works from an in-memory view kept by the store watch, so a store outage
// changes nothing on the data path: NAT and routes stay as they are until it is back.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { parse as parseYaml } from 'yaml';
import { openStore, watchChassis, KINDS, type IntentStore, type Kind, type IntentObject, type Chassis, type ChassisRegistration, type IntentWatch, type FloatingIp, type Known, type KnownLookup, type Port, StoreError, sameIntent } from '../store/index.js';
import { IntentIndex, statusUpdates, type StatusUpdate } from '../dynrouting/index.js';
import { Planner } from './planner.js';
import { MAX_DELTA, deltaSize, natDelta, natDeltaAt, type NatDelta } from './nat-delta.js';
import { NatManager, shellRunner, type NatDesired, type NatSnapshot } from '../nat/index.js';
import { DriftWorker, natDrift } from './drift.js';
import { Speaker } from '../bgp/speaker.js';
import type { NeighborConfig, SpeakerConfig } from '../bgp/config.js';
import type { SessionLogger } from '../bgp/fsm/index.js';
import type { AgentConfig } from './config.js';
import type { Metrics } from './metrics.js';

export interface AgentStatus {
  chassis: string;
  /** Store revision of the intent last applied. */
  revision: number;
  storeConnected: boolean;
  lastReconcile?: { at: string; durationMs: number; result: 'ok' | 'error'; error?: string };
  reconciles: number;
  errors: number;
  fips: { active: number; standby: number };
  routes: number;
  natEntries: number;
  /** activeChassis claims and releases queued or being written to the store. */
  statusWritesPending: number;
  skipped: Array<{ what: string; reason: string }>;
  /** Event-loop delay since start (ms): BFD at 100 ms x 3 needs this well under 100. */
  eventLoop?: { p50Ms: number; p99Ms: number; maxMs: number };
}

export interface AgentDeps {
  log: SessionLogger;
  metrics?: Metrics;
  /** A NAT manager to use (tests); default one built from config. */
  nat?: NatManager;
}

/** How long NAT entries stay after their routes were withdrawn (reconcile.drainMs). */
const DRAIN_MS = 1000;
const BFD_DEFAULT = { minTx: 100, minRx: 100, multiplier: 3 };
/**
 * Store liveness probe: a cheap read every second, failed after 2 s. The etcd watch
 * resumes by itself after a disconnect (and reports no error), so without the probe an
 * agent whose etcd is gone or frozen would keep saying storeConnected: true.
 */
const STORE_PROBE_MS = 1000;
const STORE_PROBE_TIMEOUT_MS = 2000;
/** Passes slower than this are logged even when they changed no route. */
const SLOW_PASS_MS = 100;
/** Every this many resync ticks the pass plans the whole view, not only what changed. */
const FULL_PLAN_EVERY = 10;
/** activeChassis writes in flight at once (each is a read and a compare-and-swap). */
const STATUS_WRITES_IN_FLIGHT = 32;
/** Sampling interval of the event-loop delay histogram (its samples include it). */
const LOOP_RESOLUTION_MS = 10;

/** Neighbors from the agent config, else from the chassis object in the store. */
export function neighborsFor(cfg: AgentConfig, chassis: Chassis): NeighborConfig[] {
  if (cfg.bgp.neighbors?.length) return cfg.bgp.neighbors;
  return chassis.bgpNeighbors.map((n) => {
    const b = (n as { bfd?: unknown }).bfd;
    const fam = (n as { families?: string[] }).families;
    return {
      address: n.address, asn: n.asn, families: (fam?.length ? fam : [n.address.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast']) as NeighborConfig['families'],
      holdTime: 9, passive: false, port: 179, ttlSecurity: false, connectRetry: 2, gracefulRestart: 120, maxPrefixes: 0,
      nextHopSelf: true, routeReflectorClient: false,
      ...(b ? { bfd: typeof b === 'object' ? { ...BFD_DEFAULT, ...(b as object) } : BFD_DEFAULT } : {}),
    };
  });
}

/** Creates each object of a bootstrap file unless it exists (several agents may race: first one wins). */
export async function bootstrapIntent(store: IntentStore, file: string, log: SessionLogger): Promise<number> {
  const doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown[]> | null;
  let created = 0;
  const order: Kind[] = ['chassis', 'network', 'tenant', 'speaker', 'port', 'floatingip'];
  for (const kind of order) {
    for (const obj of doc?.[kind] ?? []) {
      try {
        await store.put(kind, obj as Record<string, unknown>, { expectRevision: 0 });
        created++;
      } catch (err) {
        if (err instanceof StoreError && /CONFLICT|EXISTS|UNIQUE/i.test(err.code)) continue;
        throw err;
      }
    }
  }
  for (const k of Object.keys(doc ?? {})) if (!(KINDS as readonly string[]).includes(k)) log.warn({ kind: k, file }, 'bootstrap: unknown kind ignored');
  return created;
}

export class Agent {
  readonly cfg: AgentConfig;
  store!: IntentStore;
  speaker!: Speaker;
  nat?: NatManager;
  private deps: AgentDeps;
  /** The chassis's objects as the watch delivered them (known: with their revisions, for status writes). */
  private readonly view = new Map<string, { kind: Kind; value: IntentObject; known: Known }>();
  private watch?: IntentWatch;
  private registration?: ChassisRegistration;
  private revision = 0;
  private running = false;
  private dirty = false;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;
  /** NAT entries leaving this chassis stay until then (performance.now()), after our withdrawal. */
  private drainUntil = 0;
  private drainTimer?: NodeJS.Timeout;
  private shell?: ReturnType<typeof shellRunner>;
  /** Reads the kernel for the drift check, apart from the writer (own shell). */
  private drift?: DriftWorker;
  private resyncTimer?: NodeJS.Timeout;
  private probeTimer?: NodeJS.Timeout;
  private probing = false;
  /** Both must hold for storeConnected: the watch is running and the last probe answered. */
  private watchOk = false;
  private probeOk = true;
  private watchBackoff = 500;
  private lastNat?: NatDesired;
  /** The next pass reconciles NAT in full (start, resync timer, after an error); otherwise it applies the delta. */
  private fullNat = true;
  /** Plans passes, in full or (for FIP events only) incrementally. */
  private readonly planner: Planner;
  /** The next pass plans in full: set by any non-FIP event, a new snapshot, the resync tick, an error. */
  private planFull = true;
  /** FIP events since the last pass (id → address), for the incremental plan. */
  private pendingFips = new Map<string, string>();
  /** When the oldest change not yet taken by a pass arrived (for the reconcile latency metric). */
  private pendingSince: number | undefined;
  private zones = new Map<string, number>();
  /** activeChassis writes waiting (latest per FIP id), those being written, and the writers. */
  private claims = new Map<string, { u: StatusUpdate; address: string | undefined }>();
  private claimsInFlight = new Set<string>();
  private claimWorkers = 0;
  private claimsIdle: Array<() => void> = [];
  private resyncTicks = 0;
  /** While a NAT drift check runs: what passes changed meanwhile (see checkNatDrift). */
  private touched: { fips: Set<string>; hosts: Set<string>; full: boolean } | undefined;
  private idle: Array<() => void> = [];
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  private readonly _state: AgentStatus;
  /** How long each start step took (ms; logged with "agent started"). */
  readonly startMs: Record<string, number> = {};

  constructor(cfg: AgentConfig, deps: AgentDeps) {
    this.cfg = cfg;
    this.deps = deps;
    this.planner = new Planner(cfg.chassis);
    this._state = { chassis: cfg.chassis, revision: 0, storeConnected: false, reconciles: 0, errors: 0, fips: { active: 0, standby: 0 }, routes: 0, natEntries: 0, statusWritesPending: 0, skipped: [] };
  }

  private get log(): SessionLogger {
    return this.deps.log;
  }

  get state(): AgentStatus {
    const h = this.loopDelay;
    // the histogram's samples include its own sampling interval: subtract it to get the delay
    const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - LOOP_RESOLUTION_MS) * 1000) / 1000);
    this._state.statusWritesPending = this.claims.size + [...this.claimsInFlight].filter((id) => !this.claims.has(id)).length;
    if (h.count > 0) this._state.eventLoop = { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
    return this._state;
  }

  /** Metrics are made once the speaker exists (they read its views). */
  attachMetrics(metrics: Metrics): void {
    this.deps = { ...this.deps, metrics };
  }

  /** Opens the store, bootstraps intent, adopts the kernel NAT, builds the speaker, starts the watch. */
  async start(): Promise<void> {
    this.loopDelay.enable();
    let t = performance.now();
    const lap = (name: string): void => {
      const now = performance.now();
      this.startMs[name] = Math.round(now - t);
      t = now;
    };
    this.store = await openStore({ ...this.cfg.store, onWriteSeen: (ms) => this.deps.metrics?.watchLagSeconds.observe(ms / 1000) });
    if (this.cfg.bootstrap) {
      const n = await bootstrapIntent(this.store, this.cfg.bootstrap, this.log);
      this.log.info({ created: n, file: this.cfg.bootstrap }, 'bootstrap intent applied');
    }
    const chassis = (await this.store.get('chassis', this.cfg.chassis))?.value;
    if (!chassis) throw new Error(`chassis "${this.cfg.chassis}" is not in the intent store: create it (POST /api/v1/chassis) or list it in bootstrap`);
    const speakerCfg: SpeakerConfig = {
      asn: this.cfg.bgp.asn ?? chassis.localAsn,
      routerId: this.cfg.bgp.routerId ?? chassis.routerId ?? chassis.uplinkIp,
      listen: this.cfg.bgp.listen,
      api: { address: this.cfg.api.address, port: this.cfg.api.port },
      neighbors: neighborsFor(this.cfg, chassis),
      routes: [],
    };
    this.speaker = new Speaker(speakerCfg, { log: this.log });
    lap('store');
    if (this.cfg.nat.enabled) {
      // tools run through one small shell: forking this large process per nft/ip call costs 10-40 ms
      this.shell = shellRunner();
      const natOpts = { externalInterface: this.cfg.nat.externalInterface, mode: this.cfg.nat.mode, ...(this.cfg.nat.table ? { table: this.cfg.nat.table } : {}), onWarning: (m: string) => this.log.warn({ nat: m }, 'nat warning') };
      this.nat = this.deps.nat ?? new NatManager({ runner: this.shell, ...natOpts });
      // the drift check reads the kernel through its own shell and nftd helper (behind the
      // writer's, a FIP change waited for the whole read), in a worker thread (drift.ts)
      if (!this.deps.nat) this.drift = new DriftWorker({ externalInterface: natOpts.externalInterface, mode: natOpts.mode, ...(natOpts.table ? { table: natOpts.table } : {}) });
      // adopt what the kernel has (a restart must not drop a packet), then converge
      await this.nat.adopt();
      lap('natAdopt');
    }
    await this.startWatch();
    lap('intentSnapshot');
    this.startMs['intentObjects'] = this.view.size;
  }

  /**
   * Second half of the start: the first pass puts NAT and routes in place before any
   * session is up (so the initial table dump, and End-of-RIB after a graceful restart,
   * is complete), then BGP and BFD start. Call it once the API is built: compiling the
   * API's schemas blocks the event loop for hundreds of ms (BFD runs in its own thread,
   * but BGP keepalives and the first UPDATEs would wait).
   */
  async run(): Promise<void> {
    const t0 = performance.now();
    await this.reconcileNow();
    this.startMs['firstPass'] = Math.round(performance.now() - t0);
    await this.speaker.start();
    this.registration = await this.store.registerChassis(this.cfg.chassis, this.cfg.leaseTtl, { pid: process.pid });
    this.registration.onLost((err) => this.log.warn({ err: err.message }, 'chassis lease lost; re-registering'));
    this.resyncTimer = setInterval(() => {
      // level-triggered: re-read the kernel and repair any drift; every FULL_PLAN_EVERY ticks
      // also plan the whole view again (a full plan stalls the event loop ≈ 80-250 ms at
      // 10,000 FIPs, and FIP changes arriving meanwhile wait; any non-FIP change, a store
      // reconnect and every error plan in full anyway)
      if (++this.resyncTicks % FULL_PLAN_EVERY === 0) {
        this.planFull = true;
        this.kick();
      }
      void this.settled().then(() => this.checkNatDrift());
    }, this.cfg.reconcile.resyncSeconds * 1000);
    this.resyncTimer.unref();
    this.probeTimer = setInterval(() => void this.probeStore(), STORE_PROBE_MS);
    this.probeTimer.unref();
    this.loopDelay.reset(); // start-up (module loading, first pass) is not the steady state
  }

  private async startWatch(): Promise<void> {
    const w = await watchChassis(this.store, this.cfg.chassis, (events) => {
      let relevant = false;
      for (const e of events) {
        const k = `${e.kind}/${e.id}`;
        const before = this.view.get(k)?.value;
        if (e.type === 'put') this.view.set(k, { kind: e.kind, value: e.value, known: e.known! });
        else this.view.delete(k);
        this.revision = Math.max(this.revision, e.revision);
        if (this.isOwnClaimEcho(e.type, e.kind, before, e.value)) continue;
        relevant = true;
        if (e.kind === 'floatingip') this.pendingFips.set(e.id, (e.value as FloatingIp).address);
        else this.planFull = true;
      }
      if (relevant) {
        this.pendingSince ??= performance.now();
        this.kick();
      }
      else if (!this.running) this._state.revision = this.revision;
    }, (err) => this.onWatchError(err));
    // level-triggered: the snapshot replaces whatever we had
    this.view.clear();
    this.planFull = true;
    for (const o of w.initial) this.view.set(`${o.kind}/${o.id}`, o);
    this.revision = w.revision;
    this.watch = w.watch;
    this.watchOk = true;
    this.probeOk = true;
    this.updateConnected();
    this.watchBackoff = 500;
  }

  private updateConnected(): void {
    this._state.storeConnected = this.watchOk && this.probeOk;
  }

  /** One liveness read of the store (see STORE_PROBE_MS); a recovery triggers a pass. */
  private async probeStore(): Promise<void> {
    if (this.probing || this.stopped || !this.watchOk) return;
    this.probing = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.store.revision(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${STORE_PROBE_TIMEOUT_MS} ms`)), STORE_PROBE_TIMEOUT_MS))),
      ]);
      if (!this.probeOk) {
        this.probeOk = true;
        this.log.info({}, 'store reachable again');
        this.kick();
      }
    } catch (err) {
      if (this.probeOk && !this.stopped) this.log.warn({ err: (err as Error).message }, 'store unreachable: keeping NAT and routes as they are');
      this.probeOk = false;
    } finally {
      clearTimeout(timer);
      this.probing = false;
      this.updateConnected();
    }
  }

  private onWatchError(err: Error): void {
    if (this.stopped) return;
    this.watchOk = false;
    this.updateConnected();
    this.log.warn({ err: err.message }, 'store watch failed: keeping NAT and routes as they are, retrying');
    void this.watch?.cancel().catch(() => undefined);
    const retry = () => {
      if (this.stopped) return;
      this.startWatch().then(() => {
        this.log.info({ revision: this.revision }, 'store watch restored');
        this.kick();
      }, (e: Error) => {
        this.watchBackoff = Math.min(this.watchBackoff * 2, 10000);
        this.log.warn({ err: e.message, retryMs: this.watchBackoff }, 'store still unreachable');
        setTimeout(retry, this.watchBackoff).unref();
      });
    };
    setTimeout(retry, this.watchBackoff).unref();
  }

  /**
   * True for the watch echo of our own activeChassis claim: a FIP of a port on this
   * chassis whose only change is activeChassis becoming us. A pass would find nothing
   * to do (role, NAT and routes depend on the port's chassis, and the claim is done),
   * but at 10,000 FIPs it costs a full computation, so every FIP would cost two.
   * The periodic resync still runs a full pass.
   */
  private isOwnClaimEcho(type: 'put' | 'delete', kind: Kind, before: IntentObject | undefined, after: IntentObject): boolean {
    if (type !== 'put' || kind !== 'floatingip' || !before) return false;
    const me = this.cfg.chassis;
    const a = after as FloatingIp;
    const b = before as FloatingIp;
    if (a.activeChassis !== me || (b.activeChassis ?? null) === me) return false;
    if (!a.portId || (this.view.get(`port/${a.portId}`)?.value as Port | undefined)?.chassis !== me) return false;
    return sameIntent('floatingip', a, b);
  }

  /** Asks for a reconcile pass (coalesced: one runs at a time, one more is queued). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    void this.reconcileNow();
  }

  /** An object of this chassis's view with its revisions (the API writes from these; see IntentRoutesOptions.known). */
  readonly known: KnownLookup = <K extends Kind>(kind: K, id: string) => this.view.get(`${kind}/${id}`)?.known as Known<K> | undefined;

  /** Resolves when no pass is running or queued (tests, benchmarks). */
  settled(): Promise<void> {
    if (!this.running && !this.dirty) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private async reconcileNow(): Promise<void> {
    this.running = true;
    do {
      this.dirty = false;
      await this.pass();
    } while (this.dirty && !this.stopped);
    this.running = false;
    for (const r of this.idle.splice(0)) r();
  }

  private async pass(): Promise<void> {
    const t0 = performance.now();
    const revision = this.revision;
    const since = this.pendingSince ?? t0; // from the change's arrival, or from the start of a pass nothing asked for
    this.pendingSince = undefined;
    try {
      // plan: only the FIPs that changed when nothing else did, else the whole view
      const changed = this.pendingFips;
      this.pendingFips = new Map();
      const planFull = this.planFull;
      this.planFull = false;
      const step = (!planFull && changed.size <= MAX_DELTA ? this.planner.incremental(this.view, changed, this.zones) : undefined)
        ?? this.planner.full(this.view, this.speaker.localRoutes(), { zones: this.zones, nat: this.lastNat });
      const { ix, nat: plan } = step;
      const diff = { add: step.add, remove: step.remove };
      const tPlan = performance.now();
      // NAT fast path: only what changed, through single-entry calls (no kernel re-read)
      // (an incremental plan names the FIPs that changed: no walk over all of them)
      const base = this.lastNat;
      const at = step.natChanged?.base === base ? step.natChanged : undefined;
      let delta = this.nat && !this.fullNat && this.nat.ready && base ? (at ? natDeltaAt(base, plan.desired, at.addresses) : natDelta(base, plan.desired)) : undefined;
      if (delta && deltaSize(delta) > MAX_DELTA) delta = undefined;
      this.fullNat = false;
      if (this.nat && delta) {
        try {
          await this.natMake(delta);
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'NAT delta failed; reconciling in full');
          delta = undefined;
        }
      }
      /** The kernel already is plan.desired after the make step (nothing leaves): no break step. */
      let madeExact = false;
      if (this.nat && !delta) {
        // make before break: new entries first (the union keeps what is leaving)
        const union = unionNat(plan.desired, this.lastNat);
        const d = plan.desired;
        madeExact = union === d || (union.fips.length === d.fips.length && union.ports.length === d.ports.length && union.tenants.length === d.tenants.length);
        if (madeExact) await this.natReconcile(d);
        else await this.natReconcile(union).catch(() => this.natReconcile(d));
      }
      const tNat = performance.now();
      if (diff.add.length) await this.speaker.addRoutes(diff.add);
      if (diff.remove.length) await this.speaker.removeRoutes(diff.remove);
      await this.speaker.settle();
      const tBgp = performance.now();
      // break only once the ToR has acted on our withdrawals: "sent" is not "applied", and
      // removing the NAT at once lost the packets still routed here (3-12 at 1,000/s in a
      // planned move); leaving entries stay drainMs, then a full pass removes them
      const drainMs = this.cfg.reconcile.drainMs ?? DRAIN_MS;
      if (diff.remove.length && drainMs > 0) this.drainUntil = performance.now() + drainMs;
      if (this.nat && performance.now() < this.drainUntil) {
        this.lastNat = unionNat(plan.desired, this.lastNat);
        clearTimeout(this.drainTimer);
        this.drainTimer = setTimeout(() => this.kick(), this.drainUntil - performance.now() + 1);
        this.drainTimer.unref();
      } else {
        // lastNat is exact (make went in as a delta, or a full reconcile of the union), so
        // what drained leaves through the delta too: natDelta(union, desired) removes it
        if (this.nat && delta) await this.natBreak(delta).catch(() => this.natReconcile(plan.desired));
        else if (this.nat && !madeExact) await this.natReconcile(plan.desired);
        this.lastNat = plan.desired;
      }
      this.zones = plan.zones;
      this.queueStatus(ix);
      const roles = step.roles;
      Object.assign(this.state, {
        revision, reconciles: this.state.reconciles + 1, fips: roles, routes: step.routes, natEntries: plan.desired.fips.length,
        skipped: plan.skipped.map((s) => ({ what: String((s as { what?: string; id?: string }).what ?? (s as { id?: string }).id ?? ''), reason: String((s as { reason?: string }).reason ?? '') })),
        lastReconcile: { at: new Date().toISOString(), durationMs: Math.round((performance.now() - t0) * 100) / 100, result: 'ok' as const },
      });
      this.deps.metrics?.reconcileSeconds.observe({ result: 'ok' }, (performance.now() - since) / 1000);
      this.deps.metrics?.fips.set({ state: 'active' }, roles.active);
      this.deps.metrics?.fips.set({ state: 'standby' }, roles.standby);
      if (diff.add.length || diff.remove.length || performance.now() - t0 > SLOW_PASS_MS) {
        // ms: the pass; waitMs: from the oldest change's arrival to the pass start; then its phases
        const ms = (a: number, b: number): number => Math.round((b - a) * 100) / 100;
        this.log.info({
          revision, announced: diff.add.length, withdrawn: diff.remove.length, full: !step.incremental, ms: this.state.lastReconcile!.durationMs,
          waitMs: ms(since, t0), planMs: ms(t0, tPlan), natMs: ms(tPlan, tNat), bgpMs: ms(tNat, tBgp),
        }, 'reconciled');
      }
    } catch (err) {
      this.fullNat = true;
      this.planFull = true;
      this.state.errors++;
      this.state.lastReconcile = { at: new Date().toISOString(), durationMs: Math.round(performance.now() - t0), result: 'error', error: (err as Error).message };
      this.deps.metrics?.reconcileErrors.inc({ stage: 'pass' });
      this.deps.metrics?.reconcileSeconds.observe({ result: 'error' }, (performance.now() - since) / 1000);
      this.log.error({ err: (err as Error).message }, 'reconcile failed; retrying');
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.kick(), 1000);
      this.retryTimer.unref();
    }
  }

  /**
   * The NAT half of the resync, off the pass path: read the kernel and compare it with
   * lastNat, the model of what the passes applied (in a worker thread, drift.ts). Only
   * drift (someone flushed a map, deleted a route) costs a full reconcile; a full
   * reconcile on every tick held FIP changes that arrived meanwhile for 1-2 s at 10,000
   * FIPs. Passes keep running during the check: the FIPs and ports they change may differ
   * from the model on purpose and are not drift; a full reconcile meanwhile repaired
   * everything itself. (Dropping every check a pass overlapped made busy agents reconcile
   * in full every few ticks: 0.5-0.7 s of event loop each time.)
   */
  private async checkNatDrift(): Promise<void> {
    const nat = this.nat;
    const model = this.lastNat;
    // not while a pass runs or NAT drains (the model is in between), nor when a full reconcile is due anyway
    if (!nat || !model || this.stopped || this.running || this.touched || this.fullNat || performance.now() < this.drainUntil) return;
    const touched = (this.touched = { fips: new Set<string>(), hosts: new Set<string>(), full: false });
    try {
      const d = this.drift ? await this.drift.check(model) : await natDrift(nat, model);
      if (touched.full || this.stopped) return;
      const fips = d.fips.filter((f) => !touched.fips.has(f));
      const hosts = d.hosts.filter((h) => !touched.hosts.has(h));
      if (!d.structural.length && !fips.length && !hosts.length) return;
      this.log.warn({ structural: d.structural, fips: fips.slice(0, 10), hosts: hosts.slice(0, 10), nftAdded: d.nftAdded, nftDeleted: d.nftDeleted, ipLines: d.ipLines },
        'kernel NAT drifted from what was applied; reconciling in full');
      this.deps.metrics?.reconcileErrors.inc({ stage: 'drift' });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'NAT drift check failed; reconciling in full');
    } finally {
      this.touched = undefined;
    }
    this.fullNat = true;
    this.kick();
  }

  /** A full NAT reconcile (reads the kernel, repairs everything). */
  private natReconcile(d: NatDesired): Promise<unknown> {
    if (this.touched) this.touched.full = true;
    return this.nat!.reconcile(d);
  }

  /** Notes what a NAT delta changes, for a drift check in flight. */
  private touch(d: NatDelta): void {
    const t = this.touched;
    if (!t) return;
    for (const f of [...d.addFips, ...d.moveFips, ...d.removeFips]) t.fips.add(f.fip);
    for (const p of [...d.setPorts, ...d.removePorts]) t.hosts.add(p.fixedIp);
  }

  /**
   * activeChassis claims and releases, compare-and-swap; a failure is retried next pass.
   * Written in the background by up to STATUS_WRITES_IN_FLIGHT workers: the pass does not
   * wait for them (a FIP change arriving meanwhile would wait a store round trip per
   * claim; after a burst of thousands of new FIPs, one at a time, ≈ 45 s). The queue
   * keeps the latest update per FIP; the write itself compares against the store.
   */
  private queueStatus(ix: IntentIndex): void {
    const updates = statusUpdates(ix, this.cfg.chassis);
    if (!updates.length) return;
    const addressOf = new Map(ix.fips.map((f) => [f.id, f.address]));
    const noNeighbors = this.speaker.neighbors().length === 0; // once: a view per neighbor is not free
    const ready = updates.filter((u) => {
      if (u.reason !== 'claim' || noNeighbors) return true;
      // make before break: claim only once a ToR has our route, or the old chassis would withdraw into a blackhole
      const a = addressOf.get(u.fipId);
      return !!a && this.speaker.isAdvertised(`${a}/${a.includes(':') ? 128 : 32}`);
    });
    if (ready.length < updates.length) {
      const isReady = new Set(ready);
      this.dirtyLater(updates.filter((u) => !isReady.has(u)).map((u) => u.fipId), addressOf);
    }
    for (const u of ready) this.claims.set(u.fipId, { u, address: addressOf.get(u.fipId) });
    // a count fixed up front: a worker that finds nothing to take ends synchronously, so a
    // loop on claimWorkers would spin forever (after stop(), or with every claim in flight)
    const spawn = this.stopped ? 0 : Math.min(STATUS_WRITES_IN_FLIGHT - this.claimWorkers, this.claims.size);
    for (let i = 0; i < spawn; i++) void this.claimWorker();
  }

  private async claimWorker(): Promise<void> {
    this.claimWorkers++;
    try {
      while (!this.stopped) {
        let next: { u: StatusUpdate; address: string | undefined } | undefined;
        for (const [id, c] of this.claims) {
          if (this.claimsInFlight.has(id)) continue;
          next = c;
          break;
        }
        if (!next) return;
        const { u, address } = next;
        this.claims.delete(u.fipId);
        this.claimsInFlight.add(u.fipId);
        try {
          // from the FIP as the watch last showed it: one round trip while nobody else wrote it
          const known = this.view.get(`floatingip/${u.fipId}`)?.known as Known<'floatingip'> | undefined;
          await this.store.update('floatingip', u.fipId, (cur) =>
            (cur.activeChassis ?? null) === u.previous ? { ...cur, activeChassis: u.activeChassis } : cur, { known });
        } catch (err) {
          if (this.stopped) return;
          this.log.warn({ fip: u.fipId, err: (err as Error).message }, 'activeChassis not written (store unreachable?); will retry');
          this.dirtyLater([u.fipId], address ? new Map([[u.fipId, address]]) : undefined);
        } finally {
          this.claimsInFlight.delete(u.fipId);
        }
      }
    } finally {
      if (--this.claimWorkers === 0) for (const r of this.claimsIdle.splice(0)) r();
    }
  }

  /** Fast path, before the routes: ports, then new and re-pointed FIPs. */
  private async natMake(d: NatDelta): Promise<void> {
    this.touch(d);
    for (const p of d.setPorts) await this.nat!.setPort(p);
    for (const f of d.addFips) await this.nat!.addFip(f);
    for (const f of d.moveFips) await this.nat!.moveFip(f);
  }

  /** Fast path, after the routes: FIPs that left, then their ports. */
  private async natBreak(d: NatDelta): Promise<void> {
    this.touch(d);
    for (const f of d.removeFips) await this.nat!.removeFip(f.fip);
    for (const p of d.removePorts) await this.nat!.removePort(p.tenant, p.fixedIp);
  }

  /** A pass in a second; `fipIds` (status writes still owed) are planned again in it. */
  private dirtyLater(fipIds: string[] = [], addressOf?: ReadonlyMap<string, string>): void {
    for (const id of fipIds) {
      const a = addressOf?.get(id);
      if (a) this.pendingFips.set(id, a);
      else this.planFull = true;
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.kick(), 1000);
    this.retryTimer.unref();
  }

  natState(): Promise<NatSnapshot | { present: false; table: string; disabled: true }> {
    if (!this.nat) return Promise.resolve({ present: false, table: '', disabled: true });
    return this.nat.read();
  }

  /** Stop for a restart: sessions close without NOTIFICATION (graceful restart), NAT stays. */
  async stop(opts: { withdraw?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.loopDelay.disable();
    clearTimeout(this.retryTimer);
    clearTimeout(this.drainTimer);
    clearInterval(this.resyncTimer);
    clearInterval(this.probeTimer);
    await this.watch?.cancel().catch(() => undefined);
    // let a running pass end (it stops its store writes early) before the store and the
    // NAT shell go: a pass that outlived them restarted the shell, which kept the process alive
    if (this.running) await new Promise<void>((r) => this.idle.push(r));
    if (this.claimWorkers > 0) await new Promise<void>((r) => this.claimsIdle.push(r));
    if (opts.withdraw) await this.speaker?.stop('edgeflow agent shut down');
    else await this.speaker?.abandon();
    if (opts.withdraw) await this.registration?.revoke().catch(() => undefined);
    else this.registration?.release();
    await this.store?.close().catch(() => undefined);
    this.shell?.close();
    if (!this.deps.nat) this.nat?.close(); // its nft helper (an injected manager is the caller's)
    await this.drift?.close();
  }
}

/** What is wanted plus what is leaving (kept until routes are withdrawn); never two FIPs on one fixed IP. */
export function unionNat(next: NatDesired, prev: NatDesired | undefined): NatDesired {
  if (!prev) return next;
  const fips = new Set(next.fips.map((f) => f.fip));
  const fixed = new Set(next.fips.map((f) => `${f.tenant}|${f.fixedIp}`));
  const ports = new Set(next.ports.map((p) => `${p.tenant}|${p.fixedIp}`));
  const ifaces = new Set(next.tenants.flatMap((t) => t.ifaces));
  const tenants = new Set(next.tenants.map((t) => t.id));
  const keptTenants = prev.tenants.filter((t) => !tenants.has(t.id) && !t.ifaces.some((i) => ifaces.has(i)));
  const all = new Set([...tenants, ...keptTenants.map((t) => t.id)]);
  return {
    tenants: [...next.tenants, ...keptTenants],
    ports: [...next.ports, ...prev.ports.filter((p) => !ports.has(`${p.tenant}|${p.fixedIp}`) && all.has(p.tenant))],
    fips: [...next.fips, ...prev.fips.filter((f) => !fips.has(f.fip) && !fixed.has(`${f.tenant}|${f.fixedIp}`) && all.has(f.tenant))],
  };
}
