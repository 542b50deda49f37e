// Interned path-attribute sets. Routes that share attributes share one AttrSet, so a
// million routes from one UPDATE stream cost one object, not a million. A set holds the
// attributes other than NEXT_HOP and MP_REACH/MP_UNREACH (RFC 4760: those belong to a
// family and an UPDATE), sorted by type code, plus the next hop(s) as text. Decision
// inputs (RFC 4271 §9.1.2.2, RFC 4456 §9) are computed once per set. Sets are
// refcounted and leave the table when the last holder releases them; each set also
// caches policy/export results derived from it (invalidated by an epoch counter).
import { ATTR_BY_TYPE, asPathLength, type AsSegment, type AttributeType, type PathAttribute } from '../codec/index.js';

const ORIGIN_RANK = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;

export function attrCode(a: PathAttribute): number {
  return a.type === 'UNKNOWN' ? a.code : ATTR_BY_TYPE.get(a.type)?.code ?? 255;
}

/** Attributes sorted by type code (the order we send them in, RFC 4271 §5 recommends it). */
export function sortAttrs(list: PathAttribute[]): PathAttribute[] {
  return list.slice().sort((a, b) => attrCode(a) - attrCode(b));
}

export function findAttr<T extends AttributeType>(list: readonly PathAttribute[], type: T): Extract<PathAttribute, { type: T }> | undefined {
  for (const a of list) if (a.type === type) return a as Extract<PathAttribute, { type: T }>;
  return undefined;
}

/** A copy with `a` replacing the attribute of the same type (or inserted in code order). */
export function withAttr(list: readonly PathAttribute[], a: PathAttribute): PathAttribute[] {
  const out = list.filter((x) => x.type !== a.type || (a.type === 'UNKNOWN' && x.type === 'UNKNOWN' && x.code !== a.code));
  out.push(a);
  return sortAttrs(out);
}

export function withoutAttr(list: readonly PathAttribute[], type: AttributeType): PathAttribute[] {
  return list.filter((x) => x.type !== type);
}

export class AttrSet {
  refs = 0;
  /** Policy and export results derived from this set, keyed by the caller; valid for `cacheEpoch`. */
  cache: Map<number, AttrSet | null> | undefined = undefined;
  cacheEpoch = 0;
  /** Encoded attribute blocks by encoding flavour (see pack.ts). */
  wire: Map<string, Buffer> | undefined = undefined;
  /** The RIB's shared single-path objects with these attributes, by source index (rib.ts). */
  sharedPaths: unknown[] | undefined = undefined;

  readonly localPref: number | undefined;
  readonly med: number | undefined;
  readonly origin: number;
  readonly asPathLength: number;
  /** Leftmost AS of the AS_PATH (RFC 4271 §9.1.2.2 c), undefined when the path is empty. */
  readonly neighborAs: number | undefined;
  readonly originatorId: string | undefined;
  readonly clusterList: readonly string[];
  readonly communities: readonly string[];
  readonly segments: readonly AsSegment[];

  constructor(
    readonly id: number,
    readonly key: string,
    readonly attrs: readonly PathAttribute[],
    readonly nextHop: readonly string[],
  ) {
    let lp: number | undefined;
    let med: number | undefined;
    let origin = 0;
    let segments: readonly AsSegment[] = [];
    let originatorId: string | undefined;
    let clusterList: readonly string[] = [];
    let communities: readonly string[] = [];
    for (const a of attrs) {
      switch (a.type) {
        case 'LOCAL_PREF': lp = a.value; break;
        case 'MULTI_EXIT_DISC': med = a.value; break;
        case 'ORIGIN': origin = ORIGIN_RANK[a.value] ?? 2; break;
        case 'AS_PATH': segments = a.segments; break;
        case 'ORIGINATOR_ID': originatorId = a.value; break;
        case 'CLUSTER_LIST': clusterList = a.values; break;
        case 'COMMUNITIES': communities = a.values; break;
        default: break;
      }
    }
    this.localPref = lp;
    this.med = med;
    this.origin = origin;
    this.segments = segments;
    this.asPathLength = asPathLength(segments);
    const first = segments[0];
    this.neighborAs = first && (first.type === 'AS_SEQUENCE' || first.type === 'AS_CONFED_SEQUENCE') ? first.asns[0] : undefined;
    this.originatorId = originatorId;
    this.clusterList = clusterList;
    this.communities = communities;
  }

  hasCommunity(name: string): boolean {
    return this.communities.includes(name);
  }

  /** Whether `asn` appears anywhere in the AS_PATH (RFC 4271 §9.1.2 loop detection). */
  pathContains(asn: number): boolean {
    for (const s of this.segments) if (s.asns.includes(asn)) return true;
    return false;
  }
}

export class AttrTable {
  private readonly sets = new Map<string, AttrSet>();
  private nextId = 1;
  /** Bumped when policies or peer settings change; derived caches of older epochs are dropped. */
  epoch = 1;

  get size(): number {
    return this.sets.size;
  }

  /** The shared set for these attributes (sorted by the caller) and next hop, with one reference taken for the caller. */
  intern(attrs: readonly PathAttribute[], nextHop: readonly string[]): AttrSet {
    const key = nextHop.length === 1 ? `${nextHop[0]}|${JSON.stringify(attrs)}` : `${nextHop.join(',')}|${JSON.stringify(attrs)}`;
    let s = this.sets.get(key);
    if (!s) {
      s = new AttrSet(this.nextId++, key, Object.freeze(attrs.slice()), Object.freeze(nextHop.slice()));
      this.sets.set(key, s);
    }
    s.refs++;
    return s;
  }

  ref(s: AttrSet): AttrSet {
    s.refs++;
    return s;
  }

  release(s: AttrSet): void {
    if (--s.refs > 0) return;
    if (this.sets.get(s.key) === s) this.sets.delete(s.key);
    this.dropCache(s);
  }

  /** The valid derived-result cache of `s`, created or cleared as needed. */
  cacheOf(s: AttrSet): Map<number, AttrSet | null> {
    if (s.cache && s.cacheEpoch === this.epoch) return s.cache;
    this.dropCache(s);
    s.cache = new Map();
    s.cacheEpoch = this.epoch;
    return s.cache;
  }

  private dropCache(s: AttrSet): void {
    const c = s.cache;
    if (!c) return;
    s.cache = undefined;
    for (const v of c.values()) if (v && v !== s) this.release(v);
  }
}
