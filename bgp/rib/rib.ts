// The RIB (RFC 4271 §3.2, §9): Adj-RIB-In per peer, the Loc-RIB with the §9.1 decision
// process, an Adj-RIB-Out per established peer. One writer: every method is synchronous
// and the caller (the speaker's command loop) serialises calls; nothing here awaits.
//
// Storage: per family one Map from route key to a linked list of paths, best first.
// Keys are numbers for IPv4 unicast/multicast and text otherwise (keys.ts); the public
// methods take and give text keys ("198.51.100.7/32") and convert at the boundary.
// The Adj-RIB-In (after import policy) is the set of paths whose source is that peer,
// as in BIRD; a pre-policy copy is kept only for peers configured with keepPrePolicy.
// Locally originated routes come from a source named "local" that outranks peers.
//
// Also here: export rules (§9.1.3; RFC 4456 route reflection; RFC 1997 well-known
// communities), RFC 7606 treat-as-withdraw, graceful restart helper (RFC 4724 §4.2:
// stale marking and purge; the restart timer is the caller's), enhanced route refresh
// (RFC 7313 §4), max-prefix (RFC 4271 §6.7 Cease/1 is the caller's to send), add-path
// (RFC 7911), 2-octet-AS peers (RFC 6793 §4.2.3).
import {
  parseIP, type BgpError, type CodecContext, type Family, type Nlri, type PathAttribute, type UpdateMessage,
  DEFAULT_CONTEXT, isIPv6Family,
} from '../codec/index.js';
import { AttrSet, AttrTable, findAttr, sortAttrs, withAttr, withoutAttr } from './attrs.js';
import { decide, ipv4ToNumber, type Decision, type DecisionReason, type DecisionSource, type SourceKind } from './decision.js';
import { compositeKey, isNumericFamily, isPlainFamily, ipv4Key, keyText, prefixOf, routeKey, splitComposite, stripPathId, type RouteKey } from './keys.js';
import { CompiledPolicy, prependAs, type Policy } from './policy.js';
import { AdjRibOut, OutRoute, type ExportSource, type FamilyOut, type Sent } from './adjout.js';

export const LOCAL = 'local';
const FLAG_TRANSITIVE = 0x40;
const FLAG_PARTIAL = 0x20;

export interface PeerConfig {
  /** Unique name; defaults to the address. */
  id?: string;
  address: string;
  /** The peer's AS. */
  asn: number;
  /** Our AS towards this peer (default: the RIB's). */
  localAsn?: number;
  /** Preference of this peer's routes before LOCAL_PREF (default 0; local routes have 32768). */
  weight?: number;
  /** We reflect routes to and from this iBGP peer (RFC 4456). */
  routeReflectorClient?: boolean;
  /** iBGP: advertise ourselves as next hop. eBGP always does unless nextHopUnchanged. */
  nextHopSelf?: boolean;
  /** eBGP: pass next hops unchanged (route-server style). */
  nextHopUnchanged?: boolean;
  /** Our next-hop addresses towards this peer (default: the session's local address). */
  nextHop?: { ipv4?: string; ipv6?: string };
  /** Send the MED we learned from another AS to this eBGP peer (off: RFC 4271 §5.1.4 says MED stays in the neighbouring AS). */
  sendMed?: boolean;
  importPolicy?: Policy;
  exportPolicy?: Policy;
  /** Accepted-path limit; receiveUpdate reports when it is exceeded. */
  maxPrefix?: number;
  /** Keep received routes before import policy (soft reconfiguration inbound). */
  keepPrePolicy?: boolean;
}

/** What an Established session negotiated, as the FSM reports it. */
export interface SessionInfo {
  /** The peer's BGP Identifier. */
  routerId: string;
  /** Families both sides negotiated. */
  families: Family[];
  /** Decoding context (add-path receive, 4-octet AS). */
  rx?: CodecContext;
  /** Encoding context (add-path send, 4-octet AS, extended message). */
  tx?: CodecContext;
  /** Our address on this session (next hop self default). */
  localAddress?: string;
  /** Families for which the peer accepts an IPv6 next hop for IPv4 NLRI (RFC 8950). */
  extendedNextHop?: Family[];
  /** RFC 7313 negotiated: wrap route-refresh re-sends in BoRR/EoRR. */
  enhancedRouteRefresh?: boolean;
}

export interface RibOptions {
  asn: number;
  routerId: string;
  /** RFC 4456 cluster ID (default: routerId). */
  clusterId?: string;
  alwaysCompareMed?: boolean;
  defaultLocalPref?: number;
  /** Called on every best-path change (undefined: the route is gone). */
  onBestChange?: (family: Family, key: string, best: RibPath | undefined) => void;
}

/** A source of routes: a peer or the local one. */
export class Peer implements DecisionSource {
  kind: SourceKind;
  weight: number;
  routerId = '0.0.0.0';
  routerIdNum = 0;
  readonly addressBytes: Uint8Array;
  readonly localAsn: number;
  importPolicy: CompiledPolicy | undefined;
  exportPolicy: CompiledPolicy | undefined;
  session: SessionInfo | undefined;
  rx: CodecContext = DEFAULT_CONTEXT;
  out: AdjRibOut | undefined;
  /** Accepted paths per family (the Adj-RIB-In after policy). */
  /** Accepted paths by family-table index. */
  readonly acceptedByIndex: number[] = [];
  acceptedTotal = 0;
  /** Paths kept stale during a graceful restart (a set, so a path costs no flag field). */
  staleSet: Set<RibPath> | undefined;

  get stale(): number {
    return this.staleSet?.size ?? 0;
  }
  /** Received routes before policy: family → key (+ "\0pathId") → what arrived. */
  prePolicy: Map<Family, Map<RouteKey, { attrs: AttrSet; nlri: Nlri }>> | undefined;
  /** Families whose End-of-RIB we have seen since the session came up. */
  readonly eorSeen = new Set<Family>();

  constructor(readonly index: number, readonly id: string, readonly config: PeerConfig, ribAsn: number) {
    this.localAsn = config.localAsn ?? ribAsn;
    this.kind = id === LOCAL ? 'local' : config.asn === this.localAsn ? 'ibgp' : 'ebgp';
    this.weight = id === LOCAL ? 32768 : config.weight ?? 0;
    this.addressBytes = id === LOCAL ? new Uint8Array(0) : parseIP(config.address, 'address');
    this.importPolicy = config.importPolicy ? new CompiledPolicy(config.importPolicy, this.localAsn) : undefined;
    this.exportPolicy = config.exportPolicy ? new CompiledPolicy(config.exportPolicy, this.localAsn) : undefined;
    if (config.keepPrePolicy) this.prePolicy = new Map();
  }

  get up(): boolean {
    return this.session !== undefined;
  }

  get address(): string {
    return this.config.address;
  }
}

/** Path ID and NLRI of a path, present only when either is needed (add-path, non-plain families). */
interface PathExt {
  pathId: number;
  nlri: Nlri | undefined;
}

/**
 * One path in the Loc-RIB (read-only outside the RIB). A route whose only path has path
 * ID 0 and no NLRI of its own (plain unicast without add-path: nearly every route of a
 * full table) holds a *shared* path, one object per (source, attribute set), so a
 * million such routes cost the Map entries and no object each. Shared paths are never
 * changed: the RIB replaces one by a private copy before it links, marks or edits it.
 */
export class RibPath {
  ext: PathExt | undefined;
  /** One object for every route with only this (source, attributes) path: never changed. */
  shared = false;

  constructor(
    public source: Peer,
    public attrs: AttrSet,
    pathId: number,
    nlri: Nlri | undefined,
    public next: RibPath | undefined,
  ) {
    this.ext = pathId !== 0 || nlri !== undefined ? { pathId, nlri } : undefined;
  }

  get pathId(): number {
    return this.ext === undefined ? 0 : this.ext.pathId;
  }

  /** The NLRI without path ID, for families whose key does not rebuild it. */
  get nlri(): Nlri | undefined {
    return this.ext?.nlri;
  }

  set nlri(n: Nlri | undefined) {
    if (this.ext) this.ext.nlri = n;
    else if (n !== undefined) this.ext = { pathId: 0, nlri: n };
  }

  /** Kept for a restarting peer (RFC 4724 §4.2) until it re-sends the route or the wait ends. */
  get stale(): boolean {
    return this.source.staleSet?.has(this) ?? false;
  }
}

class FamilyTable {
  readonly routes = new Map<RouteKey, RibPath>();
  /** Adj-RIBs-Out of the established peers that negotiated this family. */
  outPeers: Array<{ peer: Peer; fo: FamilyOut }> = [];
  constructor(readonly family: Family, readonly index: number) {}
}

export interface UpdateResult {
  /** Paths added or replaced (after policy). */
  announced: number;
  withdrawn: number;
  /** Routes import policy or loop checks rejected. */
  filtered: number;
  /** End-of-RIB marker received for this family. */
  endOfRib?: Family;
  /** The peer exceeded maxPrefix: send Cease/1 (RFC 4271 §6.7) and take the session down. */
  limitExceeded?: boolean;
  /** RFC 7606 treat-as-withdraw applied to this UPDATE's NLRI. */
  treatedAsWithdraw?: boolean;
}

/** JSON view of a route for the API. */
export interface RouteView {
  family: Family;
  key: string;
  nlri: Nlri;
  nextHop: string[];
  attributes: PathAttribute[];
  peer: string;
  pathId?: number;
  stale?: boolean;
  best?: boolean;
  reason?: DecisionReason;
}

export class Rib {
  readonly table = new AttrTable();
  readonly asn: number;
  readonly routerId: string;
  readonly clusterId: string;
  private readonly opts: RibOptions;
  private readonly peers = new Map<string, Peer>();
  private readonly peerByIndex: Array<Peer | undefined> = [];
  private readonly families = new Map<Family, FamilyTable>();
  readonly local: Peer;
  /** Export held until these peers send End-of-RIB for all their families (RFC 4724 §4.1 deferral). */
  private readonly exportHold = new Set<string>();
  private txIds = new WeakMap<RibPath, number>();
  private nextTxId = 1;

  constructor(opts: RibOptions) {
    this.opts = opts;
    this.asn = opts.asn;
    this.routerId = opts.routerId;
    this.clusterId = opts.clusterId ?? opts.routerId;
    this.local = new Peer(0, LOCAL, { address: '0.0.0.0', asn: opts.asn }, opts.asn);
    this.local.routerId = opts.routerId;
    this.local.routerIdNum = ipv4ToNumber(opts.routerId);
    this.peerByIndex[0] = this.local;
    this.peers.set(LOCAL, this.local);
  }

  // ------------------------------------------------------------ peers

  addPeer(config: PeerConfig): Peer {
    const id = config.id ?? config.address;
    if (this.peers.has(id)) throw new RangeError(`peer ${id} exists`);
    let index = this.peerByIndex.indexOf(undefined, 1);
    if (index < 0) index = this.peerByIndex.length;
    if (index > 0xffff) throw new RangeError('too many peers');
    const p = new Peer(index, id, config, this.asn);
    this.peers.set(id, p);
    this.peerByIndex[index] = p;
    this.table.epoch++;
    return p;
  }

  removePeer(id: string): void {
    const p = this.peer(id);
    if (p === this.local) throw new RangeError('the local source cannot be removed');
    this.peerDown(id);
    this.peers.delete(id);
    this.peerByIndex[p.index] = undefined;
    this.table.epoch++;
  }

  peer(id: string): Peer {
    const p = this.peers.get(id);
    if (!p) throw new RangeError(`no peer ${id}`);
    return p;
  }

  allPeers(): Peer[] {
    return [...this.peers.values()].filter((p) => p !== this.local);
  }

  /** Replaces a peer's policies. Export changes are re-advertised; import changes re-apply the pre-policy copy when kept (returns false when the peer must be asked for a route refresh instead). */
  setPolicy(id: string, policies: { importPolicy?: Policy | null; exportPolicy?: Policy | null }): boolean {
    const p = this.peer(id);
    let reimported = true;
    if (policies.exportPolicy !== undefined) {
      p.exportPolicy = policies.exportPolicy ? new CompiledPolicy(policies.exportPolicy, p.localAsn) : undefined;
      p.config.exportPolicy = policies.exportPolicy ?? undefined;
      this.table.epoch++;
      p.out?.rescan();
    }
    if (policies.importPolicy !== undefined) {
      p.importPolicy = policies.importPolicy ? new CompiledPolicy(policies.importPolicy, p.localAsn) : undefined;
      p.config.importPolicy = policies.importPolicy ?? undefined;
      this.table.epoch++;
      if (p.prePolicy) {
        for (const [family, m] of p.prePolicy) {
          const fam = this.familyTable(family);
          for (const [ck, r] of m) {
            const { key, id } = splitPre(family, ck);
            this.importOne(p, fam, key, id, r.nlri, r.attrs);
          }
        }
      } else reimported = false;
    }
    return reimported;
  }

  /** The session reached Established: start the initial dump towards it. */
  peerUp(id: string, session: SessionInfo): void {
    const p = this.peer(id);
    if (p === this.local) throw new RangeError('the local source has no session');
    if (p.up) this.peerDown(id, { keepRoutes: true });
    p.session = session;
    p.routerId = session.routerId;
    p.routerIdNum = ipv4ToNumber(session.routerId);
    p.rx = session.rx ?? DEFAULT_CONTEXT;
    p.eorSeen.clear();
    const source: ExportSource = {
      table: this.table,
      desired: (family, key) => this.desired(p, family, key),
      desiredAll: (family, key) => this.desiredAll(p, family, key),
      entries: (family) => this.familyTable(family).routes.entries(),
      desiredAt: (family, key, best) => this.desiredAt(p, this.families.get(family), key, best as RibPath | undefined),
    };
    p.out = new AdjRibOut(session.tx ?? DEFAULT_CONTEXT, session.families, source);
    for (const f of session.families) this.familyTable(f).outPeers.push({ peer: p, fo: p.out.families.get(f)! });
    p.out.startDump();
    this.table.epoch++;
  }

  /**
   * The session went down. Without `gracefulRestart` the peer's routes are withdrawn
   * (RFC 4271 §9.1 on session loss); with it they are kept and marked stale (RFC 4724
   * §4.2) until End-of-RIB or purgeStale(). `keepRoutes` leaves them as they are.
   */
  peerDown(id: string, opts: { gracefulRestart?: boolean; keepRoutes?: boolean } = {}): number {
    const p = this.peer(id);
    if (p.out) {
      p.out.clear();
      p.out = undefined;
    }
    for (const fam of this.families.values()) fam.outPeers = fam.outPeers.filter((x) => x.peer !== p);
    p.session = undefined;
    this.exportHold.delete(id);
    if (opts.keepRoutes) return 0;
    if (opts.gracefulRestart) return this.markStale(id);
    const n = this.removeWhere(p, undefined, () => true);
    for (const m of p.prePolicy?.values() ?? []) for (const r of m.values()) this.table.release(r.attrs);
    p.prePolicy?.clear();
    return n;
  }

  // ------------------------------------------------------------ receiving

  /**
   * Applies one decoded UPDATE from `peerId`. `error` is the RFC 7606 error the codec
   * reported with it: treat-as-withdraw withdraws every NLRI it carries (RFC 7606 §2),
   * attribute-discard needs nothing more (the codec dropped the attribute).
   */
  receiveUpdate(peerId: string, msg: UpdateMessage, error?: BgpError): UpdateResult {
    const p = this.peer(peerId);
    const res: UpdateResult = { announced: 0, withdrawn: 0, filtered: 0 };
    const eor = endOfRibFamily(msg);
    if (eor) {
      res.endOfRib = eor;
      this.endOfRib(peerId, eor);
      return res;
    }
    const withdrawAll = error?.action === 'treat-as-withdraw';
    if (withdrawAll) res.treatedAsWithdraw = true;
    const addPath = p.rx.addPath;
    // Withdrawals first (RFC 4271 §3.1 order within a message).
    if (msg.withdrawn.length) this.withdrawList(p, 'ipv4-unicast', msg.withdrawn, addPath.has('ipv4-unicast'), res);
    const unreach = findAttr(msg.attributes, 'MP_UNREACH_NLRI');
    if (unreach) this.withdrawList(p, unreach.family, unreach.withdrawn, addPath.has(unreach.family), res);
    const reach = findAttr(msg.attributes, 'MP_REACH_NLRI');
    if (withdrawAll) {
      if (msg.nlri.length) this.withdrawList(p, 'ipv4-unicast', msg.nlri, addPath.has('ipv4-unicast'), res);
      if (reach) this.withdrawList(p, reach.family, reach.nlri, addPath.has(reach.family), res);
      return this.checkLimit(p, res);
    }
    if (msg.nlri.length === 0 && !reach?.nlri.length) return this.checkLimit(p, res);
    const common = this.normalizeReceived(p, msg.attributes);
    if (msg.nlri.length) {
      const nh = findAttr(msg.attributes, 'NEXT_HOP');
      this.announceList(p, 'ipv4-unicast', msg.nlri, common, nh ? [nh.value] : [], res);
    }
    if (reach?.nlri.length) this.announceList(p, reach.family, reach.nlri, common, reach.nextHop, res);
    return this.checkLimit(p, res);
  }

  private checkLimit(p: Peer, res: UpdateResult): UpdateResult {
    const max = p.config.maxPrefix;
    if (max !== undefined && p.acceptedTotal > max) res.limitExceeded = true;
    return res;
  }

  /** Attributes as stored: no NEXT_HOP/MP_*, AS4_PATH merged for 2-octet peers, LOCAL_PREF ignored from eBGP. */
  private normalizeReceived(p: Peer, attrs: PathAttribute[]): PathAttribute[] | null {
    let out: PathAttribute[] = [];
    for (const a of attrs) {
      if (a.type === 'NEXT_HOP' || a.type === 'MP_REACH_NLRI' || a.type === 'MP_UNREACH_NLRI') continue;
      if (a.type === 'LOCAL_PREF' && p.kind === 'ebgp') continue; // RFC 4271 §5.1.5
      out.push(a);
    }
    if (!p.rx.as4) out = mergeAs4(out);
    else out = out.filter((a) => a.type !== 'AS4_PATH' && a.type !== 'AS4_AGGREGATOR'); // RFC 6793 §4.1
    // Loop detection (RFC 4271 §9.1.2, RFC 4456 §8).
    const path = new AttrSet(0, '', out, []);
    if (p.kind === 'ebgp' && path.pathContains(p.localAsn)) return null;
    if (p.kind === 'ibgp') {
      if (path.originatorId === this.routerId) return null;
      if (path.clusterList.includes(this.clusterId)) return null;
    }
    return sortAttrs(out);
  }

  private withdrawList(p: Peer, family: Family, list: Nlri[], addPath: boolean, res: UpdateResult): void {
    const fam = this.familyTable(family);
    for (const n of list) {
      const key = routeKey(family, n);
      const pathId = addPath ? n.pathId ?? 0 : 0;
      const pre = p.prePolicy?.get(family);
      if (pre) {
        const ck = addPath ? compositeKey(key, pathId) : key;
        const old = pre.get(ck);
        if (old) {
          this.table.release(old.attrs);
          pre.delete(ck);
        }
      }
      if (this.removePath(fam, key, p, pathId)) res.withdrawn++;
    }
  }

  private announceList(p: Peer, family: Family, list: Nlri[], common: PathAttribute[] | null, nextHop: string[], res: UpdateResult): void {
    const fam = this.familyTable(family);
    const addPath = p.rx.addPath.has(family);
    const plain = isPlainFamily(family);
    if (common === null) {
      // A loop: the route is not acceptable (implicitly withdraws an older one).
      for (const n of list) {
        if (this.removePath(fam, routeKey(family, n), p, addPath ? n.pathId ?? 0 : 0)) res.withdrawn++;
        res.filtered++;
      }
      return;
    }
    const set = this.table.intern(common, nextHop);
    for (const n of list) {
      const key = routeKey(family, n);
      const pathId = addPath ? n.pathId ?? 0 : 0;
      const nlri = plain ? undefined : stripPathId(n);
      if (p.prePolicy) {
        let m = p.prePolicy.get(family);
        if (!m) p.prePolicy.set(family, (m = new Map()));
        const ck = addPath ? compositeKey(key, pathId) : key;
        const old = m.get(ck);
        if (old) this.table.release(old.attrs);
        m.set(ck, { attrs: this.table.ref(set), nlri: nlri ?? n });
      }
      if (this.importOne(p, fam, key, pathId, nlri, set)) res.announced++;
      else res.filtered++;
    }
    this.table.release(set);
  }

  /** Applies import policy and stores the result; false when the policy denied the route. */
  private importOne(p: Peer, fam: FamilyTable, key: RouteKey, pathId: number, nlri: Nlri | undefined, set: AttrSet): boolean {
    let result: AttrSet | null = set;
    const pol = p.importPolicy;
    if (pol) {
      const rule = pol.usesPrefix ? pol.match({ family: fam.family, prefix: prefixOf(fam.family, key, nlri), attrs: set.attrs, communities: set.communities }) : -2;
      result = this.derived(set, ((p.index * 64 + fam.index) * 4096 + rule + 2) * 2, () => {
        const attrs = rule === -2 ? pol.evaluate({ family: fam.family, prefix: undefined, attrs: set.attrs, communities: set.communities }) : pol.apply(rule, set.attrs);
        return attrs;
      });
    }
    if (result === null) {
      this.removePath(fam, key, p, pathId);
      return false;
    }
    this.upsertPath(fam, key, p, pathId, nlri !== undefined && isPlainFamily(fam.family) ? undefined : nlri, this.table.ref(result));
    return true;
  }

  /** A cached derived attribute set (policy or export result) of `set`. */
  private derived(set: AttrSet, cacheKey: number, make: () => readonly PathAttribute[] | null, nextHop?: () => readonly string[]): AttrSet | null {
    const cache = this.table.cacheOf(set);
    const hit = cache.get(cacheKey);
    if (hit !== undefined) return hit;
    const attrs = make();
    let r: AttrSet | null;
    if (attrs === null) r = null;
    else {
      const nh = nextHop ? nextHop() : set.nextHop;
      if (attrs === set.attrs && nh === set.nextHop) r = set;
      else {
        r = this.table.intern(attrs, nh); // the cache holds this reference
        if (r === set) this.table.release(r);
      }
    }
    cache.set(cacheKey, r);
    return r;
  }

  // ------------------------------------------------------------ local routes

  /**
   * Originates a route from the local source (config, API, agent). ORIGIN IGP and an
   * empty AS_PATH are added when missing; `nextHop` empty means "ourselves".
   */
  originate(family: Family, nlri: Nlri, attrs: PathAttribute[], nextHop: string[] = [], pathId = 0): void {
    this.originateSet(family, nlri, this.localAttrs(attrs, nextHop), pathId, true);
  }

  /**
   * The attribute set originate() would store for `attrs` and `nextHop` (the caller holds
   * one reference: release it when done). Loaders of many routes with the same attributes
   * (MRT) make it once and call originateSet for each route.
   */
  localAttrs(attrs: readonly PathAttribute[], nextHop: readonly string[] = []): AttrSet {
    let list: PathAttribute[] = attrs.filter((a) => a.type !== 'NEXT_HOP' && a.type !== 'MP_REACH_NLRI' && a.type !== 'MP_UNREACH_NLRI');
    if (!findAttr(list, 'ORIGIN')) list = withAttr(list, { type: 'ORIGIN', value: 'IGP' });
    if (!findAttr(list, 'AS_PATH')) list = withAttr(list, { type: 'AS_PATH', segments: [] });
    const nh = attrs.find((a) => a.type === 'NEXT_HOP');
    const hops = nextHop.length ? nextHop : nh && nh.type === 'NEXT_HOP' ? [nh.value] : [];
    return this.table.intern(sortAttrs(list), hops);
  }

  /** Originates a route with a set from localAttrs(); the caller keeps its reference unless `give`. */
  originateSet(family: Family, nlri: Nlri, set: AttrSet, pathId = 0, give = false): void {
    const fam = this.familyTable(family);
    const key = routeKey(family, nlri);
    this.upsertPath(fam, key, this.local, pathId, isPlainFamily(family) ? undefined : stripPathId(nlri), give ? set : this.table.ref(set));
  }

  withdrawLocal(family: Family, nlri: Nlri, pathId = 0): boolean {
    return this.removePath(this.familyTable(family), routeKey(family, nlri), this.local, pathId);
  }

  // ------------------------------------------------------------ Loc-RIB core

  private familyTable(family: Family): FamilyTable {
    let t = this.families.get(family);
    if (!t) {
      t = new FamilyTable(family, this.families.size);
      if (t.index >= 64) throw new RangeError('too many families');
      this.families.set(family, t);
    }
    return t;
  }

  private count(p: Peer, family: number, d: number): void {
    p.acceptedByIndex[family] = (p.acceptedByIndex[family] ?? 0) + d;
    p.acceptedTotal += d;
  }

  /** The shared single path of (source, attrs) (see RibPath). */
  private sharedPath(source: Peer, attrs: AttrSet): RibPath {
    const arr = (attrs.sharedPaths ??= []) as Array<RibPath | undefined>;
    let p = arr[source.index];
    // a slot of a removed peer whose index was reused holds a path of the old source
    if (p === undefined || p.source !== source) {
      p = new RibPath(source, attrs, 0, undefined, undefined);
      p.shared = true;
      arr[source.index] = p;
    }
    return p;
  }

  /** `p` if private; else a private copy of the shared path `p`, which heads `key` alone, put in its place. */
  private privatize(fam: FamilyTable, key: RouteKey, p: RibPath): RibPath {
    if (!p.shared) return p;
    const q = new RibPath(p.source, p.attrs, 0, undefined, undefined);
    const id = this.txIds.get(p);
    if (id !== undefined) this.txIds.set(q, id); // add-path: the same path keeps its transmit ID
    fam.routes.set(key, q);
    return q;
  }

  /** Adds or replaces the path (source, pathId) at `key`; takes over the caller's reference on `attrs`. */
  private upsertPath(fam: FamilyTable, key: RouteKey, source: Peer, pathId: number, nlri: Nlri | undefined, attrs: AttrSet): void {
    let head = fam.routes.get(key);
    if (!head) {
      const p = pathId === 0 && nlri === undefined ? this.sharedPath(source, attrs) : new RibPath(source, attrs, pathId, nlri, undefined);
      fam.routes.set(key, p);
      this.count(source, fam.index, 1);
      this.changed(fam, key, undefined, p, true);
      return;
    }
    let p: RibPath | undefined = head;
    let tail = head;
    while (p && !(p.source === source && p.pathId === pathId)) {
      tail = p;
      p = p.next;
    }
    if (p) {
      const wasStale = source.staleSet?.delete(p) ?? false;
      if (p.attrs === attrs && !wasStale && sameNlri(p.nlri, nlri)) {
        this.table.release(attrs);
        return;
      }
      this.table.release(p.attrs);
      if (p.shared) {
        // alone at the key: the route now holds the shared path of its new attributes
        p = nlri === undefined ? this.sharedPath(source, attrs) : new RibPath(source, attrs, 0, nlri, undefined);
        fam.routes.set(key, p);
      } else {
        p.attrs = attrs;
        p.nlri = nlri;
      }
    } else {
      if (tail.shared) head = tail = this.privatize(fam, key, tail); // a shared path is alone: tail is the head
      p = new RibPath(source, attrs, pathId, nlri, undefined);
      tail.next = p;
      this.count(source, fam.index, 1);
    }
    this.reselect(fam, key, head, p);
  }

  private removePath(fam: FamilyTable, key: RouteKey, source: Peer, pathId: number): boolean {
    const head = fam.routes.get(key);
    let prev: RibPath | undefined;
    let p = head;
    while (p && !(p.source === source && p.pathId === pathId)) {
      prev = p;
      p = p.next;
    }
    if (!p || !head) return false;
    this.unlink(fam, key, prev, p);
    this.reselect(fam, key, head, undefined);
    return true;
  }

  private unlink(fam: FamilyTable, key: RouteKey, prev: RibPath | undefined, p: RibPath): void {
    if (prev) prev.next = p.next;
    else if (p.next) fam.routes.set(key, p.next);
    else fam.routes.delete(key);
    p.next = undefined;
    p.source.staleSet?.delete(p);
    this.count(p.source, fam.index, -1);
    this.table.release(p.attrs);
  }

  /** Recomputes the best path at `key` after a change (old best `oldHead`; `touched` changed in place or was added). */
  private reselect(fam: FamilyTable, key: RouteKey, oldHead: RibPath, touched: RibPath | undefined): void {
    let head = fam.routes.get(key);
    if (head && head.next) {
      const list: RibPath[] = [];
      for (let q: RibPath | undefined = head; q; q = q.next) list.push(q);
      const { best } = decide(list, this.decisionOptions());
      if (best !== head) {
        // Move the best to the front.
        let prev = head;
        while (prev.next !== best) prev = prev.next!;
        prev.next = best.next;
        best.next = head;
        fam.routes.set(key, best);
        head = best;
      }
    }
    const bestChanged = head !== oldHead || (head !== undefined && head === touched);
    this.changed(fam, key, oldHead, head, bestChanged);
  }

  private decisionOptions() {
    return { localAsn: this.asn, alwaysCompareMed: this.opts.alwaysCompareMed, defaultLocalPref: this.opts.defaultLocalPref ?? 100 };
  }

  private changed(fam: FamilyTable, key: RouteKey, oldBest: RibPath | undefined, best: RibPath | undefined, bestChanged: boolean): void {
    for (const { peer, fo } of fam.outPeers) {
      // A new key while the initial dump runs: the dump's Map iterator reaches it (entries added during iteration are visited).
      if (oldBest === undefined && fo.scan !== undefined) continue;
      if (fo.addPath) fo.dirty.add(key);
      else if (bestChanged) {
        // Nothing to tell a peer about its own route replacing its own (or nothing).
        if (best && best.source === peer && (!oldBest || oldBest.source === peer)) continue;
        if (!best && oldBest && oldBest.source === peer) continue;
        fo.dirty.add(key);
      }
    }
    if (bestChanged && this.opts.onBestChange) this.opts.onBestChange(fam.family, keyText(key), best);
  }

  /** Removes the paths of `source` that `pred` selects (all families, or one). */
  private removeWhere(source: Peer, family: Family | undefined, pred: (p: RibPath) => boolean): number {
    let n = 0;
    for (const fam of this.families.values()) {
      if (family !== undefined && fam.family !== family) continue;
      if (!source.acceptedByIndex[fam.index]) continue;
      for (const [key, head] of fam.routes) {
        let prev: RibPath | undefined;
        let hit = false;
        for (let p: RibPath | undefined = head; p; ) {
          const next: RibPath | undefined = p.next;
          if (p.source === source && pred(p)) {
            this.unlink(fam, key, prev, p);
            hit = true;
            n++;
          } else prev = p;
          p = next;
        }
        if (hit) this.reselect(fam, key, head, undefined);
      }
    }
    return n;
  }

  // ------------------------------------------------------------ graceful restart, End-of-RIB, refresh

  /** RFC 4724 §4.2: keep the peer's routes but mark them stale (all families, or those given). Returns how many. */
  markStale(peerId: string, families?: Family[]): number {
    const p = this.peer(peerId);
    const set = (p.staleSet ??= new Set());
    let n = 0;
    for (const fam of this.families.values()) {
      if (families && !families.includes(fam.family)) continue;
      if (!p.acceptedByIndex[fam.index]) continue;
      for (const [key, head] of fam.routes) {
        for (let q: RibPath | undefined = head; q; q = q.next) {
          if (q.source === p && !set.has(q)) {
            set.add(q.shared ? this.privatize(fam, key, q) : q); // stale is a mark on one route's path
            n++;
          }
        }
      }
    }
    return n;
  }

  /** Removes the peer's stale routes (End-of-RIB, restart timer expiry, EoRR). Returns how many. */
  purgeStale(peerId: string, family?: Family): number {
    const p = this.peer(peerId);
    const set = p.staleSet;
    if (!set || set.size === 0) return 0;
    const n = this.removeWhere(p, family, (q) => set.has(q));
    if (set.size === 0) p.staleSet = undefined;
    return n;
  }

  /** End-of-RIB from a peer (receiveUpdate calls this): purges its stale routes of that family and releases a held export. */
  endOfRib(peerId: string, family: Family): void {
    const p = this.peer(peerId);
    this.purgeStale(peerId, family);
    p.eorSeen.add(family);
    if (this.exportHold.has(peerId) && (p.session?.families ?? []).every((f) => p.eorSeen.has(f))) this.exportHold.delete(peerId);
  }

  /**
   * Holds all export until each of these peers has sent End-of-RIB for every family it
   * negotiated (RFC 4724 §4.1: a restarting speaker defers its best-path export), or
   * until releaseExport(). The selection-deferral timer is the caller's.
   */
  holdExport(peerIds: string[]): void {
    for (const id of peerIds) {
      this.peer(id);
      this.exportHold.add(id);
    }
  }

  /** Ends the hold for these peers (all when none are given: the selection-deferral timer ran out). */
  releaseExport(peerIds?: string[]): void {
    if (!peerIds) this.exportHold.clear();
    else for (const id of peerIds) this.exportHold.delete(id);
  }

  /** Peers whose End-of-RIB the export still waits for. */
  get exportHeldFor(): string[] {
    return [...this.exportHold];
  }

  get exportHeld(): boolean {
    return this.exportHold.size > 0;
  }

  /**
   * A ROUTE-REFRESH from the peer (RFC 2918, RFC 7313): subtype 0 asks us to re-send
   * our Adj-RIB-Out; 1 (BoRR) marks its routes of the family stale; 2 (EoRR) purges the
   * ones it did not re-send.
   */
  routeRefresh(peerId: string, family: Family, subtype = 0): number {
    const p = this.peer(peerId);
    if (subtype === 1) return this.markStale(peerId, [family]);
    if (subtype === 2) return this.purgeStale(peerId, family);
    return p.out?.refresh(family, p.session?.enhancedRouteRefresh ?? false) ? 1 : 0;
  }

  // ------------------------------------------------------------ export (Adj-RIB-Out)

  /** Encoded messages for the peer's session to write, about `maxBytes` in all; [] while export is held. */
  drain(peerId: string, maxBytes = 1 << 16): Buffer[] {
    const p = this.peer(peerId);
    if (!p.out || this.exportHold.size > 0) return [];
    return p.out.drain(maxBytes);
  }

  hasPending(peerId: string): boolean {
    const p = this.peer(peerId);
    return !!p.out && this.exportHold.size === 0 && p.out.pending;
  }

  private desired(target: Peer, family: Family, key: RouteKey): Sent | undefined {
    const fam = this.families.get(family);
    return this.desiredAt(target, fam, key, fam?.routes.get(key));
  }

  private desiredAt(target: Peer, fam: FamilyTable | undefined, key: RouteKey, best: RibPath | undefined): Sent | undefined {
    if (!fam || !best) return undefined;
    const set = this.exportPath(best, target, fam, key);
    if (!set) return undefined;
    return best.nlri === undefined ? set : new OutRoute(set, best.nlri);
  }

  private desiredAll(target: Peer, family: Family, key: RouteKey): Array<[number, Sent]> {
    const fam = this.families.get(family);
    const out: Array<[number, Sent]> = [];
    if (!fam) return out;
    for (let p = fam.routes.get(key); p; p = p.next) {
      const set = this.exportPath(p, target, fam, key);
      if (!set) continue;
      let id = this.txIds.get(p);
      if (id === undefined) {
        id = this.nextTxId++;
        if (this.nextTxId > 0xffffffff) this.nextTxId = 1;
        this.txIds.set(p, id);
      }
      out.push([id, p.nlri === undefined ? set : new OutRoute(set, p.nlri)]);
    }
    return out;
  }

  /** Last export computed (most consecutive routes share source, attributes and rule). */
  private memo = { attrs: undefined as AttrSet | undefined, src: undefined as Peer | undefined, target: undefined as Peer | undefined, fam: -1, rule: 0, epoch: 0, result: null as AttrSet | null };

  /** The attributes `path` is advertised to `target` with, or null when it is not advertised (RFC 4271 §9.1.3). */
  private exportPath(path: RibPath, target: Peer, fam: FamilyTable, key: RouteKey): AttrSet | null {
    const src = path.source;
    if (src === target) return null; // never back to the peer it came from
    const a = path.attrs;
    const pol = target.exportPolicy;
    const rule = pol && pol.usesPrefix ? pol.match({ family: fam.family, prefix: prefixOf(fam.family, key, path.nlri), attrs: a.attrs, communities: a.communities }) : -2;
    const m = this.memo;
    if (m.attrs === a && m.src === src && m.target === target && m.fam === fam.index && m.rule === rule && m.epoch === this.table.epoch && a.cache !== undefined) return m.result;
    const result = this.exportUncached(a, src, target, fam, rule);
    m.attrs = a;
    m.src = src;
    m.target = target;
    m.fam = fam.index;
    m.rule = rule;
    m.epoch = this.table.epoch;
    m.result = result;
    return result;
  }

  private exportUncached(a: AttrSet, src: Peer, target: Peer, fam: FamilyTable, rule: number): AttrSet | null {
    // RFC 4456 §6: iBGP-learned routes go to iBGP peers only through a reflector.
    if (src.kind === 'ibgp' && target.kind === 'ibgp' && !src.config.routeReflectorClient && !target.config.routeReflectorClient) return null;
    // RFC 1997 well-known communities.
    if (a.communities.length) {
      if (a.hasCommunity('NO_ADVERTISE')) return null;
      if (target.kind === 'ebgp' && (a.hasCommunity('NO_EXPORT') || a.hasCommunity('NO_EXPORT_SUBCONFED'))) return null;
    }
    const cacheKey = (((target.index * 65536 + src.index) * 64 + fam.index) * 4096 + rule + 2) * 2 + 1;
    return this.derived(a, cacheKey, () => this.exportAttrs(a, src, target, fam.family, rule), () => this.exportNextHop(a, src, target, fam.family));
  }

  private exportAttrs(a: AttrSet, src: Peer, target: Peer, family: Family, rule: number): PathAttribute[] | null {
    const ebgp = target.kind === 'ebgp';
    let attrs: PathAttribute[] = [];
    for (const x of a.attrs) {
      if (x.type === 'UNKNOWN') {
        // RFC 4271 §5: unrecognised optional transitive attributes pass with Partial set; non-transitive ones stop here.
        const flags = x.flags ?? 0xc0;
        if (flags & FLAG_TRANSITIVE) attrs.push({ ...x, flags: src === this.local ? flags : flags | FLAG_PARTIAL });
        continue;
      }
      if (ebgp && (x.type === 'LOCAL_PREF' || x.type === 'ORIGINATOR_ID' || x.type === 'CLUSTER_LIST')) continue;
      if (ebgp && x.type === 'MULTI_EXIT_DISC' && src !== this.local && !target.config.sendMed) continue;
      if (x.flags !== undefined) {
        const { flags: _f, ...rest } = x;
        attrs.push(rest as PathAttribute);
      } else attrs.push(x);
    }
    if (!ebgp && src.kind === 'ibgp') {
      // Reflection (RFC 4456 §8): ORIGINATOR_ID once, our cluster ID in front of CLUSTER_LIST.
      if (!findAttr(attrs, 'ORIGINATOR_ID')) attrs = withAttr(attrs, { type: 'ORIGINATOR_ID', value: src.routerId });
      attrs = withAttr(attrs, { type: 'CLUSTER_LIST', values: [this.clusterId, ...(findAttr(attrs, 'CLUSTER_LIST')?.values ?? [])] });
    }
    const pol = target.exportPolicy;
    if (pol) {
      const r = rule === -2 ? pol.evaluate({ family, prefix: undefined, attrs, communities: a.communities }) : pol.apply(rule, attrs);
      if (r === null) return null;
      attrs = r;
    }
    if (ebgp) {
      attrs = withoutAttr(prependAs(attrs, target.localAsn, 1), 'LOCAL_PREF');
    } else if (!findAttr(attrs, 'LOCAL_PREF')) {
      attrs = withAttr(attrs, { type: 'LOCAL_PREF', value: this.opts.defaultLocalPref ?? 100 });
    }
    return sortAttrs(attrs);
  }

  private exportNextHop(a: AttrSet, src: Peer, target: Peer, family: Family): readonly string[] {
    const nh = a.nextHop;
    const unspecified = nh.length === 0 || nh[0] === '0.0.0.0' || nh[0] === '::';
    // A local route with a configured next hop keeps it, to eBGP peers too: a third-party
    // next hop (RFC 4271 §5.1.3), e.g. a central speaker announcing each FIP via its chassis.
    // Kept only when it is of the session's own family (an IPv4 route over an IPv6 session
    // takes our IPv6 address, RFC 8950), and not an IPv4-mapped placeholder.
    const sessionV6 = target.session?.localAddress?.includes(':') ?? false;
    if (src === this.local && !unspecified && !nh[0]!.startsWith('::ffff:') && nh[0]!.includes(':') === sessionV6) return nh;
    const self = unspecified || (target.kind === 'ebgp' ? !target.config.nextHopUnchanged : !!target.config.nextHopSelf);
    if (!self) return nh;
    const local = target.session?.localAddress;
    const v4 = target.config.nextHop?.ipv4 ?? (local && !local.includes(':') ? local : undefined);
    const v6 = target.config.nextHop?.ipv6 ?? (local && local.includes(':') ? local : undefined);
    if (isIPv6Family(family)) {
      if (v6) return [v6];
      if (v4) return [`::ffff:${v4}`]; // IPv6 routes over an IPv4 session: IPv4-mapped next hop
      return nh;
    }
    if (v4) return [v4];
    if (v6 && target.session?.extendedNextHop?.includes(family)) return [v6]; // RFC 8950
    return nh;
  }

  // ------------------------------------------------------------ queries

  /** Best path at `key` (text, "198.51.100.7/32", or an internal key). */
  best(family: Family, key: RouteKey): RibPath | undefined {
    return this.families.get(family)?.routes.get(internalKey(family, key));
  }

  paths(family: Family, key: RouteKey): RibPath[] {
    const out: RibPath[] = [];
    for (let p = this.best(family, key); p; p = p.next) out.push(p);
    return out;
  }

  /** Best path at `key` and the decision step that chose it. */
  explain(family: Family, key: RouteKey): Decision<RibPath> | undefined {
    const list = this.paths(family, key);
    return list.length ? decide(list, this.decisionOptions()) : undefined;
  }

  /** Loc-RIB of a family: [key, best path]. */
  *locRib(family: Family): IterableIterator<[string, RibPath]> {
    const fam = this.families.get(family);
    if (!fam) return;
    for (const [key, best] of fam.routes) yield [keyText(key), best];
  }

  /** Adj-RIB-In of a peer, after import policy (or before it, when kept). */
  *adjRibIn(peerId: string, family: Family, opts: { prePolicy?: boolean } = {}): IterableIterator<{ key: string; pathId: number; nlri: Nlri | undefined; attrs: AttrSet; stale: boolean }> {
    const p = this.peer(peerId);
    if (opts.prePolicy) {
      for (const [ck, r] of p.prePolicy?.get(family) ?? []) {
        const { key, id } = splitPre(family, ck);
        yield { key: keyText(key), pathId: id, nlri: r.nlri, attrs: r.attrs, stale: false };
      }
      return;
    }
    const fam = this.families.get(family);
    if (!fam || !p.acceptedByIndex[fam.index]) return;
    for (const [key, head] of fam.routes) {
      for (let q: RibPath | undefined = head; q; q = q.next) {
        if (q.source === p) yield { key: keyText(key), pathId: q.pathId, nlri: q.nlri, attrs: q.attrs, stale: q.stale };
      }
    }
  }

  /** What we advertise (or are about to) to a peer: [key (with "\0txId" under add-path), attrs, nlri]. */
  *adjRibOut(peerId: string, family: Family): IterableIterator<{ key: string; attrs: AttrSet; nlri: Nlri | undefined }> {
    const fo = this.peer(peerId).out?.families.get(family);
    if (!fo) return;
    for (const [ck, s] of fo.sent) {
      let key: string;
      if (fo.addPath) {
        const { key: k, id } = splitComposite(family, ck as string);
        key = `${keyText(k)}\u0000${id}`;
      } else key = keyText(ck);
      if (s instanceof AttrSet) yield { key, attrs: s, nlri: undefined };
      else yield { key, attrs: s.attrs, nlri: s.nlri };
    }
  }

  /** Counters for the API. */
  peerStats(peerId: string): { accepted: number; acceptedByFamily: Record<string, number>; stale: number; received?: number; advertised: number } {
    const p = this.peer(peerId);
    let advertised = 0;
    for (const fo of p.out?.families.values() ?? []) advertised += fo.sent.size;
    const s: ReturnType<Rib['peerStats']> = { accepted: p.acceptedTotal, acceptedByFamily: Object.fromEntries([...this.families.values()].filter((f) => p.acceptedByIndex[f.index]).map((f) => [f.family, p.acceptedByIndex[f.index]!])), stale: p.stale, advertised };
    if (p.prePolicy) s.received = [...p.prePolicy.values()].reduce((n, m) => n + m.size, 0);
    return s;
  }

  /** Number of keys in a family's Loc-RIB. */
  size(family: Family): number {
    return this.families.get(family)?.routes.size ?? 0;
  }

  /** A JSON view of one path (API, CLI). */
  view(family: Family, key: RouteKey, path: RibPath): RouteView {
    const text = keyText(key);
    const nlri: Nlri = path.nlri ?? { prefix: text };
    const v: RouteView = { family, key: text, nlri, nextHop: [...path.attrs.nextHop], attributes: [...path.attrs.attrs], peer: path.source.id };
    if (path.pathId) v.pathId = path.pathId;
    if (path.stale) v.stale = true;
    if (this.best(family, key) === path) {
      v.best = true;
      v.reason = this.explain(family, key)?.reason;
    }
    return v;
  }
}

/** A key given to a public method: text of a numeric family becomes its number. */
function internalKey(family: Family, key: RouteKey): RouteKey {
  return typeof key === 'string' && isNumericFamily(family) ? ipv4Key(key) : key;
}

/** A pre-policy map key: the route key, or "key\0pathId" under add-path. */
function splitPre(family: Family, ck: RouteKey): { key: RouteKey; id: number } {
  if (typeof ck === 'number' || !ck.includes('\u0000')) return { key: ck, id: 0 };
  return splitComposite(family, ck);
}

function sameNlri(a: Nlri | undefined, b: Nlri | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** RFC 4724 §2: an UPDATE with nothing in it (IPv4 unicast), or with only an empty MP_UNREACH_NLRI. */
export function endOfRibFamily(m: UpdateMessage): Family | undefined {
  if (m.withdrawn.length || m.nlri.length) return undefined;
  if (m.attributes.length === 0) return 'ipv4-unicast';
  if (m.attributes.length === 1) {
    const a = m.attributes[0]!;
    if (a.type === 'MP_UNREACH_NLRI' && a.withdrawn.length === 0 && !a.nlriRaw) return a.family;
  }
  return undefined;
}

/** RFC 6793 §4.2.3: a 2-octet peer's AS_PATH with AS4_PATH merged in; AS4_AGGREGATOR likewise. */
export function mergeAs4(attrs: PathAttribute[]): PathAttribute[] {
  const asPath = findAttr(attrs, 'AS_PATH');
  const as4 = findAttr(attrs, 'AS4_PATH');
  const agg = findAttr(attrs, 'AGGREGATOR');
  const agg4 = findAttr(attrs, 'AS4_AGGREGATOR');
  let out: PathAttribute[] = attrs.filter((a) => a.type !== 'AS4_PATH' && a.type !== 'AS4_AGGREGATOR');
  // An AGGREGATOR that is not AS_TRANS means the AS4 attributes came from an older speaker: ignore them.
  if (agg && agg4 && agg.asn === 23456) out = withAttr(out, { type: 'AGGREGATOR', asn: agg4.asn, address: agg4.address });
  if (agg && agg4 && agg.asn !== 23456) return out;
  if (!asPath || !as4) return out;
  const count = (segs: typeof asPath.segments) => segs.reduce((n, s) => n + (s.type === 'AS_SEQUENCE' ? s.asns.length : s.type === 'AS_SET' ? 1 : 0), 0);
  let keep = count(asPath.segments) - count(as4.segments);
  if (keep < 0) return out;
  const head: typeof asPath.segments = [];
  for (const s of asPath.segments) {
    if (s.type === 'AS_CONFED_SEQUENCE' || s.type === 'AS_CONFED_SET') {
      head.push(s);
      continue;
    }
    if (keep <= 0) break;
    if (s.type === 'AS_SET') {
      head.push(s);
      keep--;
    } else {
      const n = Math.min(keep, s.asns.length);
      head.push({ type: 'AS_SEQUENCE', asns: s.asns.slice(0, n) });
      keep -= n;
    }
  }
  return withAttr(out, { type: 'AS_PATH', segments: [...head, ...as4.segments] });
}
