// The Speaker facade: one RIB, one session per neighbor, a TCP listener, optional BFD
// per neighbor, local routes (config, MRT, API, agent). Everything that touches the RIB
// runs synchronously inside one event callback or API call, so the RIB has one writer;
// UPDATEs flow out through a per-peer pump that respects socket backpressure.
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Session, type Clock, type SessionLogger, type CapabilityConfig, type Negotiated } from './fsm/index.js';
import { Rib, routeKey, type PeerConfig, type RouteView } from './rib/index.js';
import { loadMrt } from './mrt/index.js';
import { ThreadedBfdManager, type BfdManagerLike } from './bfd/index.js';
import { toCodecRoute, routeSpecKey, type RouteSpec, type CodecRoute } from './routespec.js';
import type { SpeakerConfig, NeighborConfig } from './config.js';
import type { NeighborView, PathView, SpeakerApi, MessageCounters } from './view.js';
import { notificationName, type AddPathMode, type ExtendedCommunity, type Family } from './codec/index.js';

const execFileP = promisify(execFile);
const CEASE = 6;
const CEASE_MAX_PREFIXES = 1;
const CEASE_BFD_DOWN = 10; // RFC 9384

export interface SpeakerDeps {
  log?: SessionLogger;
  clock?: Clock;
  /** BFD manager to use (a test may pass one on another port, or an in-process BfdManager); by default a ThreadedBfdManager (BFD in a worker thread, safe from main-thread stalls) is created when a neighbor asks for BFD. */
  bfd?: BfdManagerLike;
}

interface PeerRuntime {
  cfg: NeighborConfig;
  /** Our OPEN still carries the Restart State bit (RFC 4724 §3): until this session's first Established after our restart. */
  restarting: boolean;
  /** The RIB's config of this peer (its next hops are filled in when the session comes up). */
  ribCfg: PeerConfig;
  session: Session;
  pumping: boolean;
  grTimer?: unknown;
  localAddress?: string;
  negotiated?: Negotiated;
  lastChange: number;
}

const stripMapped = (a: string | undefined) => (a?.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);

/** Human text for an extended community in views: "rt:65000:10", "encap:8", "rmac:02:00:00:00:00:01". */
export function extCommunityText(c: ExtendedCommunity): string {
  switch (c.type) {
    case 'route-target': return `rt:${c.value}`;
    case 'route-origin': return `soo:${c.value}`;
    case 'encapsulation': return `encap:${c.tunnelType}`;
    case 'router-mac': return `rmac:${c.mac}`;
    case 'mac-mobility': return `mm:${c.sequence}${c.sticky ? ':sticky' : ''}`;
    case 'raw': return `raw:${c.value}`;
  }
}

export function pathView(v: RouteView, now: number, receivedAt?: number): PathView {
  const out: PathView = {
    family: v.family,
    prefix: v.key,
    nlri: JSON.parse(JSON.stringify(v.nlri)) as Record<string, unknown>,
    peer: v.peer,
    asPath: [],
    origin: 'IGP',
    best: v.best === true,
    age: receivedAt ? Math.round((now - receivedAt) / 1000) : 0,
  };
  if (v.pathId) out.pathId = v.pathId;
  if (v.nextHop[0]) out.nextHop = v.nextHop[0];
  if (v.reason) out.reason = String(v.reason);
  if (v.stale) out.stale = true;
  for (const a of v.attributes) {
    switch (a.type) {
      case 'ORIGIN': out.origin = a.value; break;
      case 'AS_PATH': out.asPath = a.segments.flatMap((s) => s.asns); break;
      case 'NEXT_HOP': out.nextHop ??= a.value; break;
      case 'LOCAL_PREF': out.localPref = a.value; break;
      case 'MULTI_EXIT_DISC': out.med = a.value; break;
      case 'COMMUNITIES': out.communities = a.values; break;
      case 'LARGE_COMMUNITIES': out.largeCommunities = a.values; break;
      case 'EXTENDED_COMMUNITIES': out.extendedCommunities = a.values.map(extCommunityText); break;
      default: break;
    }
  }
  return out;
}

function capabilityNames(n: Negotiated): string[] {
  const names: string[] = [];
  if (n.as4) names.push('4-octet-as');
  if (n.routeRefresh) names.push('route-refresh');
  if (n.enhancedRouteRefresh) names.push('enhanced-route-refresh');
  if (n.extendedMessage.send && n.extendedMessage.receive) names.push('extended-message');
  for (const [f, ap] of Object.entries(n.addPath)) {
    if (!ap) continue;
    const dir = ap.send && ap.receive ? 'both' : ap.send ? 'send' : 'receive';
    names.push(`add-path:${f}:${dir}`);
  }
  for (const e of n.extendedNextHop.send) names.push(`extended-next-hop:${e.family}`);
  if (n.localGracefulRestart && n.gracefulRestart) names.push('graceful-restart');
  if (n.longLivedGracefulRestart?.length) names.push('long-lived-graceful-restart');
  return names;
}

function toCounters(c: Record<string, number>): MessageCounters {
  return { open: c.open ?? 0, update: c.update ?? 0, notification: c.notification ?? 0, keepalive: c.keepalive ?? 0, routeRefresh: c.routeRefresh ?? 0, total: c.total ?? 0 };
}

type Interfaces = ReturnType<typeof networkInterfaces>;

/**
 * Our next hop of the other address family on a session: the first global address of that
 * family on the interface that holds the session's local address (as FRR does). IPv6 routes
 * over an IPv4 session then carry a usable IPv6 next hop, not an IPv4-mapped one that the
 * peer's kernel cannot install.
 */
export function otherFamilyNextHop(localAddress: string | undefined, ifaces: Interfaces): string | undefined {
  if (!localAddress) return undefined;
  const wantV6 = !localAddress.includes(':');
  for (const addrs of Object.values(ifaces)) {
    if (!addrs?.some((a) => a.address === localAddress)) continue;
    const other = addrs.find((a) => (a.family === 'IPv6') === wantV6 && !a.internal && !(wantV6 && /^fe[89ab]/i.test(a.address)));
    return other?.address;
  }
  return undefined;
}

/** Our address towards `peer` by the kernel's routing table (the source BFD needs). */
async function sourceAddressFor(peer: string): Promise<string | undefined> {
  try {
    const { stdout } = await execFileP('ip', ['-j', 'route', 'get', peer]);
    return (JSON.parse(stdout) as Array<{ prefsrc?: string }>)[0]?.prefsrc;
  } catch {
    return undefined;
  }
}

export class Speaker extends EventEmitter implements SpeakerApi {
  readonly asn: number;
  readonly routerId: string;
  /** The RIB (the one writer is this speaker). */
  readonly table: Rib;
  private readonly cfg: SpeakerConfig;
  private readonly deps: SpeakerDeps;
  private readonly peers = new Map<string, PeerRuntime>();
  private readonly local = new Map<string, { spec: RouteSpec; route: CodecRoute }>();
  /** Keys of `local` by prefix text (isAdvertised is called once per FIP claim). */
  private readonly localByPrefix = new Map<string, Set<string>>();
  private readonly receivedAt = new Map<string, number>();
  private server?: net.Server;
  private bfd?: BfdManagerLike;
  private ownsBfd = false;
  private flushScheduled = false;
  private stopped = false;
  /** Restarting-speaker role (RFC 4724 §4.1): this start is a restart. */
  private readonly restarting: boolean;
  private deferralTimer?: unknown;
  /** Within the restart's selection deferral (RFC 4724 §4.1). */
  private deferring = false;
  /** Neighbors whose End-of-RIB the deferral waited for. */
  private readonly deferWaited = new Set<string>();
  mrtRoutes = 0;

  constructor(cfg: SpeakerConfig, deps: SpeakerDeps = {}) {
    super();
    this.cfg = cfg;
    this.deps = deps;
    this.asn = cfg.asn;
    this.routerId = cfg.routerId;
    this.table = new Rib({ asn: cfg.asn, routerId: cfg.routerId });
    this.restarting = cfg.gracefulRestart?.restarting ?? false;
    for (const n of cfg.neighbors) this.addNeighbor(n);
  }

  private get log(): SessionLogger {
    return this.deps.log ?? { debug() {}, info() {}, warn() {}, error() {} };
  }

  /**
   * Loads config routes and the MRT table, listens, starts every session (and BFD). The
   * table loads before the sessions start, so the first dump and its End-of-RIB carry all
   * of it (an early End-of-RIB would end a helper's graceful restart with half our routes).
   */
  async start(): Promise<void> {
    if (this.cfg.routes.length) await this.addRoutes(this.cfg.routes);
    if (this.cfg.mrt) {
      const { routes, stats } = loadMrt(this.table, readFileSync(this.cfg.mrt));
      this.mrtRoutes = routes;
      this.log.info({ file: this.cfg.mrt, routes, stats }, 'MRT table loaded');
    }
    if (this.restarting) this.deferSelection();
    if (this.cfg.listen.port !== 0) await this.listen(this.cfg.listen.address, this.cfg.listen.port);
    for (const p of this.peers.values()) p.session.start();
    for (const p of this.peers.values()) if (p.cfg.bfd) await this.startBfd(p);
  }

  /**
   * RFC 4724 §4.1, restarting speaker: route selection (here: export) is deferred until
   * the neighbors have sent End-of-RIB, or until the Selection_Deferral_Timer runs out;
   * then our routes and End-of-RIB go out. As FRR does, the neighbors waited for are those
   * that come up with graceful restart negotiated during the deferral (not restarting
   * themselves); a configured neighbor that never comes up does not hold the others.
   */
  private deferSelection(): void {
    const seconds = this.cfg.gracefulRestart?.selectionDeferral ?? 360;
    this.deferring = true;
    this.log.info({ selectionDeferral: seconds }, 'restarting (graceful restart): Restart State bit set; export deferred until End-of-RIB from the neighbors');
    const clock = this.deps.clock ?? { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms).unref() };
    this.deferralTimer = clock.setTimeout(() => {
      this.deferralTimer = undefined;
      this.deferring = false;
      if (!this.table.exportHeld) return;
      this.log.warn({ waitingFor: this.table.exportHeldFor }, 'selection deferral timer expired: advertising without their End-of-RIB');
      this.table.releaseExport();
      this.scheduleFlush();
    }, seconds * 1000);
  }

  /** After an End-of-RIB or a session loss: the deferral ends when every neighbor waited for is done. */
  private checkDeferral(): void {
    if (!this.deferring || this.deferWaited.size === 0 || this.table.exportHeld) return;
    this.clearDeferral();
    this.log.info({ neighbors: [...this.deferWaited] }, 'graceful restart: End-of-RIB from every neighbor waited for (or it went down); advertising');
    this.scheduleFlush();
  }

  private clearDeferral(): void {
    if (this.deferralTimer !== undefined) (this.deps.clock ?? globalThis).clearTimeout(this.deferralTimer as NodeJS.Timeout);
    this.deferralTimer = undefined;
    this.deferring = false;
  }

  private async listen(address: string, port: number): Promise<void> {
    const server = net.createServer((socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err }, 'listener error'));
  }

  /** The port we listen on (tests listen on port 0 in config only when it means "never"; see listenPort). */
  get listenAddress(): net.AddressInfo | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  private onConnection(socket: net.Socket): void {
    const remote = stripMapped(socket.remoteAddress);
    const p = remote ? this.peers.get(remote) : undefined;
    if (!p || this.stopped) {
      this.log.warn({ remote }, 'connection from an unknown address refused');
      socket.destroy();
      return;
    }
    if (!p.session.accept(socket)) socket.destroy();
  }

  private addNeighbor(n: NeighborConfig): void {
    const families = n.families as Family[];
    const mode: AddPathMode | undefined = n.addPath;
    const caps: CapabilityConfig = {
      families,
      ...(mode ? { addPath: Object.fromEntries(families.map((f) => [f, mode])) as Partial<Record<Family, AddPathMode>> } : {}),
      // RFC 4724 §3: F set for every family (we keep no forwarding state of our own: what our routes lead to
      // lives in the kernel and survives our process); R set in the first OPEN after a restart.
      ...(n.gracefulRestart > 0 ? { gracefulRestart: { restartTime: n.gracefulRestart, restarting: this.restarting, notification: true, families: families.map((family) => ({ family, forwarding: true })) } } : {}),
      // RFC 8950: on an IPv6 session we take IPv4 routes with IPv6 next hops
      ...(n.address.includes(':') ? { extendedNextHop: [{ family: 'ipv4-unicast' as Family, nextHopAfi: 2 }] } : {}),
    };
    const session = new Session({
      peerAddress: n.address,
      peerPort: n.port,
      localAddress: n.localAddress,
      localAs: this.cfg.asn,
      routerId: this.cfg.routerId,
      peerAs: n.asn,
      holdTime: n.holdTime,
      keepaliveTime: n.keepalive,
      connectRetryTime: n.connectRetry,
      idleHoldTime: n.idleHoldTime,
      idleHoldMaxTime: n.idleHoldMaxTime,
      delayOpenTime: n.delayOpen,
      passive: n.passive,
      capabilities: caps,
      ttl: n.multihop,
      gtsm: n.ttlSecurity,
    }, { clock: this.deps.clock, log: this.log });
    const ribCfg: PeerConfig = {
      address: n.address,
      asn: n.asn,
      nextHopSelf: n.nextHopSelf,
      routeReflectorClient: n.routeReflectorClient,
      importPolicy: n.importPolicy,
      exportPolicy: n.exportPolicy,
      maxPrefix: n.maxPrefixes || undefined,
    };
    const p: PeerRuntime = { cfg: n, ribCfg, session, pumping: false, lastChange: Date.now(), restarting: this.restarting && n.gracefulRestart > 0 };
    this.peers.set(n.address, p);
    this.table.addPeer(ribCfg);
    const addr = n.address;
    session.on('stateChange', (from, to, reason) => {
      p.lastChange = Date.now();
      this.log.info({ neighbor: addr, from, to, reason }, 'session state');
      this.emit('stateChange', addr, from, to, reason);
    });
    session.on('established', (neg) => {
      p.negotiated = neg;
      if (p.restarting) {
        // Later OPENs of this session are not after a restart of ours.
        p.restarting = false;
        session.setRestartState(false);
      }
      const info = session.info();
      p.localAddress = stripMapped(info.local?.address);
      // Next hop of the other family: IPv6 routes over an IPv4 session; IPv4 routes over an
      // IPv6 session when the peer did not take IPv6 next hops for them (RFC 8950).
      const other = otherFamilyNextHop(p.localAddress, networkInterfaces());
      const v4Session = !p.localAddress?.includes(':');
      const enhe = neg.extendedNextHop.send.some((e) => e.family === 'ipv4-unicast');
      ribCfg.nextHop = v4Session ? { ipv6: other } : enhe ? {} : { ipv4: other };
      if (p.grTimer !== undefined) {
        (this.deps.clock ?? globalThis).clearTimeout(p.grTimer as NodeJS.Timeout);
        p.grTimer = undefined;
      }
      this.table.peerUp(addr, {
        routerId: neg.peerRouterId,
        families: neg.families,
        rx: neg.receiveContext,
        tx: neg.sendContext,
        localAddress: p.localAddress,
        extendedNextHop: neg.extendedNextHop.send.map((e) => e.family),
        enhancedRouteRefresh: neg.enhancedRouteRefresh,
      });
      // RFC 4724 §4.1: wait for this neighbor's End-of-RIB, unless it lacks the capability or is restarting itself.
      if (this.deferring) {
        const wait = !!neg.gracefulRestart && !neg.gracefulRestart.restarting;
        if (wait) {
          this.table.holdExport([addr]);
          this.deferWaited.add(addr);
        }
        this.log.info({ neighbor: addr, wait, peerRestarting: neg.gracefulRestart?.restarting ?? null }, wait ? 'graceful restart: waiting for the neighbor\'s End-of-RIB' : 'graceful restart: not waiting for this neighbor (no capability, or restarting itself)');
      }
      this.emit('established', addr, neg);
      this.pump(p);
    });
    session.on('update', (msg, error) => {
      const r = this.table.receiveUpdate(addr, msg, error);
      if (r.endOfRib) this.checkDeferral();
      if (error) this.log.warn({ neighbor: addr, error: error.toJSON() }, 'UPDATE error handled per RFC 7606');
      if (r.limitExceeded) {
        this.log.warn({ neighbor: addr, limit: n.maxPrefixes }, 'maximum prefixes exceeded');
        void session.stop({ code: CEASE, subcode: CEASE_MAX_PREFIXES, data: maxPrefixData(n.maxPrefixes), restart: true });
      }
      this.scheduleFlush();
    });
    session.on('routeRefresh', (msg) => {
      this.table.routeRefresh(addr, msg.family, msg.subtype);
      this.pump(p);
    });
    session.on('down', (reason, info) => {
      p.negotiated = undefined;
      const gr = info.gracefulRestart;
      this.table.peerDown(addr, { gracefulRestart: gr });
      this.checkDeferral(); // a neighbor that went down is no longer waited for
      this.log.warn({ neighbor: addr, reason, gracefulRestart: gr }, 'session down');
      if (gr) {
        // RFC 4724 §4.2: keep the routes stale for the peer's restart time, then purge.
        const seconds = info.negotiated?.gracefulRestart?.restartTime ?? 120;
        const clock = this.deps.clock ?? { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms).unref() };
        p.grTimer = clock.setTimeout(() => {
          p.grTimer = undefined;
          this.table.purgeStale(addr);
          this.scheduleFlush();
        }, seconds * 1000);
      }
      this.emit('down', addr, reason, info);
      this.scheduleFlush();
    });
  }

  private async startBfd(p: PeerRuntime): Promise<void> {
    const b = p.cfg.bfd!;
    if (!this.bfd) {
      this.bfd = this.deps.bfd ?? new ThreadedBfdManager();
      this.ownsBfd = !this.deps.bfd;
      this.bfd.on('error', (err: Error) => this.log.error({ err }, 'BFD error'));
    }
    const local = p.cfg.localAddress ?? (await sourceAddressFor(p.cfg.address));
    if (!local) {
      this.log.error({ neighbor: p.cfg.address }, 'BFD not started: no local address towards the neighbor');
      return;
    }
    const s = await this.bfd.add({ peer: p.cfg.address, local, minTx: b.minTx, minRx: b.minRx, multiplier: b.multiplier });
    s.on('down', (ev: { remoteAdminDown: boolean; diagName: string; from: string }) => {
      // RFC 5882 §3.2: the peer turning BFD off administratively is not a path failure.
      if (ev.remoteAdminDown || ev.from !== 'Up') return;
      this.log.warn({ neighbor: p.cfg.address, diag: ev.diagName }, 'BFD down: tearing the BGP session down');
      if (p.session.state !== 'Idle') void p.session.stop({ code: CEASE, subcode: CEASE_BFD_DOWN, restart: true });
    });
  }

  /** Coalesces RIB changes into one pass over the peers. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      for (const p of this.peers.values()) this.pump(p);
    });
  }

  /** Writes what the RIB has for the peer, pausing while the socket is full. */
  private pump(p: PeerRuntime): void {
    if (p.pumping) return;
    const addr = p.cfg.address;
    p.pumping = true;
    void (async () => {
      try {
        while (p.session.state === 'Established' && this.table.hasPending(addr)) {
          const bufs = this.table.drain(addr, 1 << 16);
          let room = true;
          for (const b of bufs) room = p.session.send(b) && room;
          // wait for the socket to drain; re-check the session once a second so that a
          // connection that died while full can never leave this peer's pump stuck
          let drained = room;
          while (!drained && p.session.state === 'Established') {
            drained = await Promise.race([p.session.writable.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 1000).unref())]);
          }
        }
      } catch (err) {
        this.log.warn({ neighbor: addr, err: (err as Error).message }, 'send stopped');
      } finally {
        p.pumping = false;
      }
    })();
  }

  /**
   * True when a local route for `prefix` has been sent to at least one Established
   * neighbor (it is in that neighbor's Adj-RIB-Out and nothing is left to write).
   * Make-before-break waits for this before it lets the old chassis withdraw.
   */
  isAdvertised(prefix: string): boolean {
    const routes = [...(this.localByPrefix.get(prefix) ?? [])].map((k) => this.local.get(k)!);
    for (const p of this.peers.values()) {
      const addr = p.cfg.address;
      if (p.session.state !== 'Established' || p.pumping || this.table.hasPending(addr)) continue;
      const out = this.table.peer(addr).out;
      for (const l of routes) if (out?.families.get(l.route.family)?.sent.has(routeKey(l.route.family, l.route.nlri))) return true;
    }
    return false;
  }

  /** Resolves when every Established peer has been sent all the RIB has for it (or after `maxMs`). */
  async settle(maxMs = 2000): Promise<void> {
    const deadline = Date.now() + maxMs;
    await new Promise((r) => setImmediate(r));
    for (;;) {
      const busy = [...this.peers.values()].some((p) => p.session.state === 'Established' && (p.pumping || this.table.hasPending(p.cfg.address)));
      if (!busy || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /**
   * Resolves once the sessions being opened at start are up and have sent their first
   * dump (or failed), after at least `minMs` and at most `maxMs`: the time for work that
   * stalls the main thread (the CLI builds its REST API then) without delaying a session.
   * Sessions waiting in Active (passive, or after a failed connect) are not waited for.
   */
  async startupSettled(minMs = 100, maxMs = 5000): Promise<void> {
    const start = Date.now();
    for (;;) {
      const elapsed = Date.now() - start;
      if (elapsed >= maxMs) return;
      const busy = [...this.peers.values()].some((p) => {
        const st = p.session.state;
        if (st === 'Connect' || st === 'OpenSent' || st === 'OpenConfirm') return true;
        return st === 'Established' && (p.pumping || this.table.hasPending(p.cfg.address));
      });
      if (!busy && elapsed >= minMs) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops every session with Cease/Administrative Shutdown (and its RFC 8203 text) and closes the listener. */
  async stop(message = 'edgeflow speaker stopping'): Promise<void> {
    this.stopped = true;
    this.clearDeferral();
    await Promise.all([...this.peers.values()].map(async (p) => {
      if (p.grTimer !== undefined) (this.deps.clock ?? globalThis).clearTimeout(p.grTimer as NodeJS.Timeout);
      await p.session.stop({ message: p.cfg.shutdownMessage ?? message }).catch(() => undefined);
      p.session.dispose();
    }));
    if (this.bfd && this.ownsBfd) await this.bfd.close();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Restart without telling the peers (for graceful restart: the process goes, sockets close without NOTIFICATION). */
  async abandon(): Promise<void> {
    this.stopped = true;
    this.clearDeferral();
    for (const p of this.peers.values()) p.session.dispose();
    if (this.bfd && this.ownsBfd) await this.bfd.close({ silent: true });
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  // ---------------------------------------------------------------- SpeakerApi

  neighbors(): NeighborView[] {
    return [...this.peers.values()].map((p) => this.neighborView(p));
  }

  neighbor(address: string): NeighborView | undefined {
    const p = this.peers.get(address);
    return p && this.neighborView(p);
  }

  private neighborView(p: PeerRuntime): NeighborView {
    const info = p.session.info();
    const neg = p.negotiated;
    const stats = this.table.peerStats(p.cfg.address);
    const v: NeighborView = {
      address: p.cfg.address,
      asn: p.cfg.asn,
      state: info.state,
      uptime: info.state === 'Established' ? Math.round(info.uptime ?? 0) : 0,
      lastChange: new Date(p.lastChange).toISOString(),
      holdTime: neg?.holdTime ?? p.cfg.holdTime,
      keepalive: neg?.keepaliveTime ?? Math.floor(p.cfg.holdTime / 3),
      families: neg?.families ?? [],
      capabilities: neg ? capabilityNames(neg) : [],
      prefixes: { received: stats.received ?? stats.accepted, accepted: stats.accepted, advertised: stats.advertised },
      messages: { sent: toCounters(info.messages.out), received: toCounters(info.messages.in) },
      flaps: info.flaps,
    };
    if (p.cfg.description) v.description = p.cfg.description;
    if (neg) v.remoteId = neg.peerRouterId;
    if (p.localAddress) v.localAddress = p.localAddress;
    if (info.lastError) {
      const e = info.lastError;
      // RFC 8538 §3: name the Cease inside a Hard Reset too ("Cease/Hard Reset (Cease/Maximum Number of Prefixes Reached)")
      const inner = e.code === 6 && e.subcode === 9 && e.data.length >= 4 ? ` (${notificationName(parseInt(e.data.slice(0, 2), 16), parseInt(e.data.slice(2, 4), 16))})` : '';
      v.lastError = { direction: e.direction, code: e.code, subcode: e.subcode, reason: e.name + inner, at: new Date(e.at).toISOString() };
      const text = e.shutdownMessage ?? e.message;
      if (text) v.lastError.message = text;
    } else if (info.lastDownReason) {
      v.lastError = { direction: 'local', reason: info.lastDownReason, at: new Date(p.lastChange).toISOString() };
    }
    const b = this.bfd?.get(p.cfg.address)?.snapshot();
    if (b) v.bfd = { state: b.state, remoteState: b.remoteState, diag: b.diag, txInterval: b.txInterval, rxInterval: b.rxInterval, multiplier: b.multiplier, detectionTimeMs: b.detectionTimeMs };
    return v;
  }

  rib(family: string): PathView[] {
    const now = Date.now();
    const out: PathView[] = [];
    for (const [key] of this.table.locRib(family as Family)) {
      for (const path of this.table.paths(family as Family, key)) out.push(pathView(this.table.view(family as Family, key, path), now));
    }
    return out;
  }

  received(address: string, family: string): PathView[] | undefined {
    if (!this.peers.has(address)) return undefined;
    const now = Date.now();
    return [...this.table.adjRibIn(address, family as Family)].map((r) => pathView({
      family: family as Family, key: r.key, nlri: r.nlri ?? { prefix: r.key }, nextHop: [...r.attrs.nextHop], attributes: [...r.attrs.attrs],
      peer: address, pathId: r.pathId || undefined, stale: r.stale || undefined,
      best: this.table.best(family as Family, r.key)?.source.id === address,
    }, now));
  }

  advertised(address: string, family: string): PathView[] | undefined {
    if (!this.peers.has(address)) return undefined;
    const now = Date.now();
    return [...this.table.adjRibOut(address, family as Family)].map((r) => {
      const key = r.key.split('\u0000')[0]!;
      return pathView({ family: family as Family, key, nlri: r.nlri ?? { prefix: key }, nextHop: [...r.attrs.nextHop], attributes: [...r.attrs.attrs], peer: 'local', best: true }, now);
    });
  }

  private unindexLocal(prefix: string, key: string): void {
    const keys = this.localByPrefix.get(prefix);
    keys?.delete(key);
    if (keys?.size === 0) this.localByPrefix.delete(prefix);
  }

  localRoutes(): RouteSpec[] {
    return [...this.local.values()].map((l) => l.spec);
  }

  async addRoutes(specs: RouteSpec[]): Promise<number> {
    // all or nothing: validate every spec before touching the RIB
    const routes = specs.map((s) => ({ spec: s, route: toCodecRoute(s), key: routeSpecKey(s) }));
    for (const r of routes) {
      const had = this.local.get(r.key);
      if (had && had.spec.prefix !== r.spec.prefix) this.unindexLocal(had.spec.prefix, r.key);
      this.local.set(r.key, { spec: r.spec, route: r.route });
      let keys = this.localByPrefix.get(r.spec.prefix);
      if (!keys) this.localByPrefix.set(r.spec.prefix, (keys = new Set()));
      keys.add(r.key);
      this.table.originate(r.route.family, r.route.nlri, r.route.attributes, r.route.nextHop ? [r.route.nextHop] : []);
    }
    this.scheduleFlush();
    return routes.length;
  }

  async removeRoutes(specs: RouteSpec[]): Promise<number> {
    let n = 0;
    for (const s of specs) {
      const key = routeSpecKey(s);
      const l = this.local.get(key);
      if (!l) continue;
      this.local.delete(key);
      this.unindexLocal(l.spec.prefix, key);
      this.table.withdrawLocal(l.route.family, l.route.nlri);
      n++;
    }
    this.scheduleFlush();
    return n;
  }

  async resetNeighbor(address: string, mode: 'soft-in' | 'soft-out' | 'hard'): Promise<boolean> {
    const p = this.peers.get(address);
    if (!p) return false;
    if (mode === 'hard') {
      await p.session.stop({ code: CEASE, subcode: 4, message: 'reset by operator', restart: true });
      return true;
    }
    if (p.session.state !== 'Established' || !p.negotiated) return false;
    if (mode === 'soft-in') {
      for (const family of p.negotiated.families) p.session.send({ type: 'ROUTE-REFRESH', family, subtype: 0 });
    } else {
      for (const family of p.negotiated.families) this.table.routeRefresh(address, family, 0);
      this.pump(p);
    }
    return true;
  }

  /** The session of a neighbor (tests, the agent). */
  session(address: string): Session | undefined {
    return this.peers.get(address)?.session;
  }
}

/** RFC 4486 §4: the data of Cease/1 may carry AFI, SAFI and the limit; we send the limit only. */
function maxPrefixData(limit: number): Uint8Array {
  const b = Buffer.alloc(7);
  b.writeUInt16BE(1, 0);
  b.writeUInt8(1, 2);
  b.writeUInt32BE(limit >>> 0, 3);
  return b;
}

