// The BGP decision process (RFC 4271 §9.1.2.2) as an ordered list of steps, each of
// which keeps the most preferred candidates; the step that leaves one candidate is the
// reason the winner won. Steps: source weight (locally originated routes win, as FRR's
// local routes do), highest LOCAL_PREF (§9.1.1), shortest AS_PATH (an AS_SET counts one,
// confederation segments nothing), lowest ORIGIN, lowest MED among routes from the same
// neighbouring AS (all routes with always-compare-med; a missing MED is 0), eBGP over
// iBGP, lowest BGP Identifier (ORIGINATOR_ID when present, RFC 4456 §9), shortest
// CLUSTER_LIST (RFC 4456 §9), lowest peer address, then lowest path ID (add-path ties).
import type { AttrSet } from './attrs.js';

export type DecisionReason =
  | 'only-path'
  | 'weight'
  | 'local-pref'
  | 'as-path-length'
  | 'origin'
  | 'med'
  | 'ebgp-over-ibgp'
  | 'router-id'
  | 'cluster-list-length'
  | 'peer-address'
  | 'path-id';

export type SourceKind = 'local' | 'ebgp' | 'ibgp';

/** What the decision needs to know about where a path came from. */
export interface DecisionSource {
  readonly kind: SourceKind;
  readonly weight: number;
  /** BGP Identifier as an unsigned 32-bit number. */
  readonly routerIdNum: number;
  /** Peer address octets (empty for local routes). */
  readonly addressBytes: Uint8Array;
}

export interface Candidate {
  readonly source: DecisionSource;
  readonly attrs: AttrSet;
  readonly pathId: number;
}

export interface DecisionOptions {
  /** Our AS: the neighbouring AS of a route with an empty AS_PATH. */
  localAsn: number;
  alwaysCompareMed?: boolean;
  /** LOCAL_PREF assumed when a route has none (RFC 4271 §5.1.5 leaves it to us; everyone uses 100). */
  defaultLocalPref?: number;
}

export function ipv4ToNumber(s: string): number {
  const p = s.split('.');
  if (p.length !== 4) return 0;
  return ((Number(p[0]) << 24) >>> 0) + (Number(p[1]) << 16) + (Number(p[2]) << 8) + Number(p[3]);
}

function keepMin<T>(set: T[], score: (c: T) => number): T[] {
  let min = Infinity;
  for (const c of set) min = Math.min(min, score(c));
  return set.filter((c) => score(c) === min);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

type Step<T extends Candidate> = [DecisionReason, (set: T[], o: Required<DecisionOptions>) => T[]];

function steps<T extends Candidate>(): Array<Step<T>> {
  return [
    ['weight', (s) => keepMin(s, (c) => -c.source.weight)],
    ['local-pref', (s, o) => keepMin(s, (c) => -(c.attrs.localPref ?? o.defaultLocalPref))],
    ['as-path-length', (s) => keepMin(s, (c) => c.attrs.asPathLength)],
    ['origin', (s) => keepMin(s, (c) => c.attrs.origin)],
    ['med', (s, o) => {
      // §9.1.2.2 (c): remove a route when another one from the same neighbouring AS has a lower MED.
      const med = (c: T) => c.attrs.med ?? 0;
      const nas = (c: T) => (o.alwaysCompareMed ? 0 : c.attrs.neighborAs ?? o.localAsn);
      return s.filter((c) => !s.some((d) => d !== c && nas(d) === nas(c) && med(d) < med(c)));
    }],
    ['ebgp-over-ibgp', (s) => keepMin(s, (c) => (c.source.kind === 'ibgp' ? 1 : 0))],
    ['router-id', (s) => keepMin(s, (c) => (c.attrs.originatorId !== undefined ? ipv4ToNumber(c.attrs.originatorId) : c.source.routerIdNum))],
    ['cluster-list-length', (s) => keepMin(s, (c) => c.attrs.clusterList.length)],
    ['peer-address', (s) => {
      let best = s[0]!;
      for (const c of s) if (compareBytes(c.source.addressBytes, best.source.addressBytes) < 0) best = c;
      return s.filter((c) => compareBytes(c.source.addressBytes, best.source.addressBytes) === 0);
    }],
    ['path-id', (s) => keepMin(s, (c) => c.pathId)],
  ];
}

const STEPS = steps<Candidate>();

export interface Decision<T> {
  best: T;
  reason: DecisionReason;
}

/** Chooses the best of `paths` (non-empty) and says which step decided it. */
export function decide<T extends Candidate>(paths: readonly T[], opts: DecisionOptions): Decision<T> {
  if (paths.length === 0) throw new RangeError('decide() needs at least one path');
  if (paths.length === 1) return { best: paths[0]!, reason: 'only-path' };
  const o: Required<DecisionOptions> = { alwaysCompareMed: false, defaultLocalPref: 100, ...opts };
  let set = paths.slice() as Candidate[];
  for (const [reason, step] of STEPS) {
    set = step(set, o);
    if (set.length === 1) return { best: set[0] as T, reason };
  }
  // Two paths equal in every respect (the same path twice): keep the first.
  return { best: set[0] as T, reason: 'path-id' };
}

/** Pairwise form: which of two paths wins, and why. */
export function compare<T extends Candidate>(a: T, b: T, opts: DecisionOptions): Decision<T> {
  return decide([a, b], opts);
}
