// Import/export policy per neighbour: an ordered list of JSON-friendly rules, first
// match wins, then the default action (permit unless configured). A rule matches when
// every condition it names holds; each list condition matches when any entry does.
// Conditions: prefix lists with ge/le (as in FRR/Cisco prefix-lists), families,
// standard (RFC 1997), large (RFC 8092) communities and route targets (RFC 4360 §4).
// Actions: permit/deny; set LOCAL_PREF, MED; set/add/remove communities and large
// communities; add route targets; AS_PATH prepend n times (our AS or a given one).
import {
  EncodeError, formatCommunity, parseCommunity, parseLargeCommunity, parsePrefix,
  type ExtendedCommunity, type Family, type PathAttribute,
} from '../codec/index.js';
import { findAttr, withAttr, withoutAttr } from './attrs.js';

export interface PrefixMatch {
  /** "198.51.100.0/24" or "2001:db8::/32". */
  prefix: string;
  /** Match prefixes at least this long (default: the prefix's own length, or it when le is given). */
  ge?: number;
  /** Match prefixes at most this long (default: ge when given, else the prefix's own length; with ge alone, up to the maximum). */
  le?: number;
}

export interface PolicyMatch {
  prefixes?: PrefixMatch[];
  families?: Family[];
  communities?: string[];
  largeCommunities?: string[];
  routeTargets?: string[];
}

export interface PolicySet {
  localPref?: number;
  med?: number;
  /** Replaces all standard communities. */
  communities?: string[];
  addCommunities?: string[];
  removeCommunities?: string[];
  largeCommunities?: string[];
  addLargeCommunities?: string[];
  removeLargeCommunities?: string[];
  addRouteTargets?: string[];
  /** Prepends `asn` (default: our AS) `count` times. */
  prepend?: { count: number; asn?: number };
}

export interface PolicyRule {
  name?: string;
  match?: PolicyMatch;
  action: 'permit' | 'deny';
  set?: PolicySet;
}

export interface Policy {
  rules: PolicyRule[];
  default?: 'permit' | 'deny';
}

interface CompiledPrefix {
  bytes: Uint8Array;
  len: number;
  v6: boolean;
  ge: number;
  le: number;
}

interface CompiledRule {
  rule: PolicyRule;
  prefixes: CompiledPrefix[] | undefined;
  families: Set<string> | undefined;
  communities: Set<string> | undefined;
  large: Set<string> | undefined;
  rts: Set<string> | undefined;
}

/** A route as policy sees it. */
export interface PolicyInput {
  family: Family;
  /** Prefix text, when the family has one (see keys.ts prefixOf). */
  prefix: string | undefined;
  attrs: readonly PathAttribute[];
  communities: readonly string[];
}

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

const normCommunity = (s: string, field: string) => {
  try {
    return formatCommunity(parseCommunity(s, field));
  } catch (e) {
    throw new PolicyError((e as Error).message);
  }
};
const normLarge = (s: string, field: string) => {
  try {
    return parseLargeCommunity(s, field).join(':');
  } catch (e) {
    throw new PolicyError((e as Error).message);
  }
};

export class CompiledPolicy {
  readonly rules: CompiledRule[];
  readonly defaultPermit: boolean;
  /** Whether any rule looks at the prefix (results then cannot be cached per attribute set alone). */
  readonly usesPrefix: boolean;

  constructor(readonly source: Policy, readonly localAsn: number) {
    if (!source || !Array.isArray(source.rules)) throw new PolicyError('a policy needs a rules array');
    if (source.default !== undefined && source.default !== 'permit' && source.default !== 'deny') throw new PolicyError('default must be permit or deny');
    this.defaultPermit = source.default !== 'deny';
    this.rules = source.rules.map((r, i) => compileRule(r, i));
    this.usesPrefix = this.rules.some((r) => r.prefixes !== undefined);
  }

  /** Index of the first matching rule, or -1 (the default action). */
  match(input: PolicyInput): number {
    for (let i = 0; i < this.rules.length; i++) if (ruleMatches(this.rules[i]!, input)) return i;
    return -1;
  }

  /** Applies rule `i` (or the default): the new attribute list, or null when denied. */
  apply(i: number, attrs: readonly PathAttribute[]): PathAttribute[] | null {
    if (i < 0) return this.defaultPermit ? (attrs as PathAttribute[]) : null;
    const r = this.rules[i]!.rule;
    if (r.action === 'deny') return null;
    return r.set ? applySet(r.set, attrs, this.localAsn) : (attrs as PathAttribute[]);
  }

  /** match + apply in one call. */
  evaluate(input: PolicyInput): PathAttribute[] | null {
    return this.apply(this.match(input), input.attrs);
  }
}

function compileRule(r: PolicyRule, i: number): CompiledRule {
  const where = `rule ${r?.name ?? i}`;
  if (!r || (r.action !== 'permit' && r.action !== 'deny')) throw new PolicyError(`${where}: action must be permit or deny`);
  const m = r.match ?? {};
  const prefixes = m.prefixes?.map((p) => {
    let parsed;
    try {
      parsed = parsePrefix(p.prefix);
    } catch (e) {
      throw new PolicyError(`${where}: ${(e as Error).message}`);
    }
    const max = parsed.v6 ? 128 : 32;
    const ge = p.ge ?? parsed.len;
    const le = p.le ?? (p.ge !== undefined ? max : parsed.len);
    if (!(parsed.len <= ge && ge <= le && le <= max)) throw new PolicyError(`${where}: need len <= ge <= le <= ${max} for ${p.prefix}`);
    return { bytes: parsed.addr, len: parsed.len, v6: parsed.v6, ge, le };
  });
  if (r.set) checkSet(r.set, where);
  return {
    rule: r,
    prefixes,
    families: m.families ? new Set(m.families) : undefined,
    communities: m.communities ? new Set(m.communities.map((c) => normCommunity(c, `${where} communities`))) : undefined,
    large: m.largeCommunities ? new Set(m.largeCommunities.map((c) => normLarge(c, `${where} largeCommunities`))) : undefined,
    rts: m.routeTargets ? new Set(m.routeTargets) : undefined,
  };
}

function checkSet(s: PolicySet, where: string): void {
  const u32 = (v: unknown, f: string) => {
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff)) throw new PolicyError(`${where}: ${f} must be an unsigned 32-bit integer`);
  };
  u32(s.localPref, 'localPref');
  u32(s.med, 'med');
  for (const k of ['communities', 'addCommunities', 'removeCommunities'] as const) s[k]?.forEach((c) => normCommunity(c, `${where} ${k}`));
  for (const k of ['largeCommunities', 'addLargeCommunities', 'removeLargeCommunities'] as const) s[k]?.forEach((c) => normLarge(c, `${where} ${k}`));
  if (s.prepend) {
    if (!Number.isInteger(s.prepend.count) || s.prepend.count < 0 || s.prepend.count > 32) throw new PolicyError(`${where}: prepend count must be 0..32`);
    u32(s.prepend.asn, 'prepend asn');
  }
}

function prefixMatches(p: CompiledPrefix, text: string): boolean {
  let q;
  try {
    q = parsePrefix(text);
  } catch (e) {
    if (e instanceof EncodeError) return false;
    throw e;
  }
  if (q.v6 !== p.v6 || q.len < p.ge || q.len > p.le) return false;
  // The first p.len bits must agree.
  const full = p.len >> 3;
  for (let i = 0; i < full; i++) if (q.addr[i] !== p.bytes[i]) return false;
  const rem = p.len & 7;
  if (rem) {
    const mask = (0xff << (8 - rem)) & 0xff;
    if ((q.addr[full]! & mask) !== (p.bytes[full]! & mask)) return false;
  }
  return true;
}

function ruleMatches(r: CompiledRule, x: PolicyInput): boolean {
  if (r.families && !r.families.has(x.family)) return false;
  if (r.prefixes) {
    if (x.prefix === undefined || !r.prefixes.some((p) => prefixMatches(p, x.prefix!))) return false;
  }
  if (r.communities && !x.communities.some((c) => r.communities!.has(c))) return false;
  if (r.large) {
    const lc = findAttr(x.attrs, 'LARGE_COMMUNITIES')?.values ?? [];
    if (!lc.some((c) => r.large!.has(c))) return false;
  }
  if (r.rts) {
    const ext = findAttr(x.attrs, 'EXTENDED_COMMUNITIES')?.values ?? [];
    if (!ext.some((c) => c.type === 'route-target' && r.rts!.has(c.value))) return false;
  }
  return true;
}

function applySet(s: PolicySet, input: readonly PathAttribute[], localAsn: number): PathAttribute[] {
  let attrs = input.slice();
  if (s.localPref !== undefined) attrs = withAttr(attrs, { type: 'LOCAL_PREF', value: s.localPref });
  if (s.med !== undefined) attrs = withAttr(attrs, { type: 'MULTI_EXIT_DISC', value: s.med });
  if (s.communities || s.addCommunities || s.removeCommunities) {
    let list = s.communities ? s.communities.map((c) => normCommunity(c, 'communities')) : (findAttr(attrs, 'COMMUNITIES')?.values ?? []).slice();
    for (const c of s.addCommunities ?? []) {
      const n = normCommunity(c, 'addCommunities');
      if (!list.includes(n)) list.push(n);
    }
    const drop = new Set((s.removeCommunities ?? []).map((c) => normCommunity(c, 'removeCommunities')));
    list = list.filter((c) => !drop.has(c));
    attrs = list.length ? withAttr(attrs, { type: 'COMMUNITIES', values: list }) : withoutAttr(attrs, 'COMMUNITIES');
  }
  if (s.largeCommunities || s.addLargeCommunities || s.removeLargeCommunities) {
    let list = s.largeCommunities ? s.largeCommunities.map((c) => normLarge(c, 'largeCommunities')) : (findAttr(attrs, 'LARGE_COMMUNITIES')?.values ?? []).slice();
    for (const c of s.addLargeCommunities ?? []) {
      const n = normLarge(c, 'addLargeCommunities');
      if (!list.includes(n)) list.push(n);
    }
    const drop = new Set((s.removeLargeCommunities ?? []).map((c) => normLarge(c, 'removeLargeCommunities')));
    list = list.filter((c) => !drop.has(c));
    attrs = list.length ? withAttr(attrs, { type: 'LARGE_COMMUNITIES', values: list }) : withoutAttr(attrs, 'LARGE_COMMUNITIES');
  }
  if (s.addRouteTargets?.length) {
    const values: ExtendedCommunity[] = (findAttr(attrs, 'EXTENDED_COMMUNITIES')?.values ?? []).slice();
    for (const rt of s.addRouteTargets) {
      if (!values.some((c) => c.type === 'route-target' && c.value === rt)) values.push({ type: 'route-target', value: rt });
    }
    attrs = withAttr(attrs, { type: 'EXTENDED_COMMUNITIES', values });
  }
  if (s.prepend && s.prepend.count > 0) attrs = prependAs(attrs, s.prepend.asn ?? localAsn, s.prepend.count);
  return attrs;
}

/** AS_PATH with `asn` prepended `count` times (RFC 4271 §5.1.2: into the leading AS_SEQUENCE, a new one when full or absent). */
export function prependAs(attrs: readonly PathAttribute[], asn: number, count: number): PathAttribute[] {
  const old = findAttr(attrs, 'AS_PATH')?.segments ?? [];
  const segments = old.map((s) => ({ type: s.type, asns: s.asns.slice() }));
  for (let i = 0; i < count; i++) {
    const first = segments[0];
    if (first && first.type === 'AS_SEQUENCE' && first.asns.length < 255) first.asns.unshift(asn);
    else segments.unshift({ type: 'AS_SEQUENCE', asns: [asn] });
  }
  return withAttr(attrs, { type: 'AS_PATH', segments });
}
