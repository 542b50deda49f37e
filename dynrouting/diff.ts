// Route-set difference: what to announce and what to withdraw to go from the routes a
// speaker has to the routes it must have. Routes are identified by routeSpecKey
// (family + NLRI); a route whose key stays but whose attributes change is announced
// again (the speaker replaces by key, which sends an implicit withdraw, RFC 4271 §3.1).
import { routeSpecKey, type RouteSpec } from '../bgp/routespec.js';
import { sortRoutes } from './routes.js';

export interface RouteDiff {
  /** New routes and routes whose attributes changed, sorted. */
  add: RouteSpec[];
  /** Routes whose key is gone, sorted. */
  remove: RouteSpec[];
}

/** JSON with sorted object keys and no undefined fields: equal routes give equal text. */
export function canonicalRoute(spec: RouteSpec): string {
  return stable(spec);
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stable(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Deep equality of two routes, fields set to undefined counting as absent (what canonicalRoute compares, without building text). */
export function sameRoute(a: RouteSpec, b: RouteSpec): boolean {
  return same(a, b);
}

function same(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (Array.isArray(x)) return Array.isArray(y) && x.length === y.length && x.every((v, i) => same(v, y[i]));
  if (!x || !y || typeof x !== 'object' || typeof y !== 'object' || Array.isArray(y)) return false;
  const a = x as Record<string, unknown>;
  const b = y as Record<string, unknown>;
  let n = 0;
  for (const k in a) {
    if (a[k] === undefined) continue;
    n++;
    if (!same(a[k], b[k])) return false;
  }
  for (const k in b) if (b[k] !== undefined) n--;
  return n === 0;
}

/** Diff `current` → `desired`. When a set holds one key twice, its last route counts. */
export function diffRoutes(current: readonly RouteSpec[], desired: readonly RouteSpec[]): RouteDiff {
  const cur = new Map<string, RouteSpec>();
  for (const r of current) cur.set(routeSpecKey(r), r);
  const want = new Map<string, RouteSpec>();
  for (const r of desired) want.set(routeSpecKey(r), r);
  const add: RouteSpec[] = [];
  const remove: RouteSpec[] = [];
  for (const [k, r] of want) {
    const c = cur.get(k);
    if (!c || !sameRoute(c, r)) add.push(r);
  }
  for (const [k, r] of cur) if (!want.has(k)) remove.push(r);
  return { add: sortRoutes(add), remove: sortRoutes(remove) };
}
