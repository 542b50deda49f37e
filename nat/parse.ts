// Reads our table back from `nft -j list table inet <name>` (libnftables JSON schema 1)
// into the same key/value text that state.ts renders, so diff.ts compares like with like.
// Foreign tables never appear: we only ever list our own.

import { canonicalIp } from './ip.js';
import { markText } from './fip/elements.js';
import { CHAIN_NAMES, MAP_NAMES, type ChainName, type MapName } from './state.js';

/** What the kernel has in our table. A missing map/chain is `undefined`. */
export interface NftCurrent {
  table: boolean;
  maps: Partial<Record<MapName, Map<string, string>>>;
  /** Rule comments of each chain, in order ('' for a rule without comment). */
  chains: Partial<Record<ChainName, string[]>>;
}

export const NO_TABLE: NftCurrent = { table: false, maps: {}, chains: {} };

type Fmt = (v: unknown) => string;

const addr: Fmt = (v) => {
  const ip = canonicalIp(v);
  if (ip === undefined) throw new Error(`nft JSON: not an address: ${JSON.stringify(v)}`);
  return ip;
};
const int: Fmt = (v) => {
  if (typeof v !== 'number') throw new Error(`nft JSON: not a number: ${JSON.stringify(v)}`);
  return String(v);
};
const mark: Fmt = (v) => {
  if (typeof v !== 'number') throw new Error(`nft JSON: not a mark: ${JSON.stringify(v)}`);
  return markText(v);
};
const ifname: Fmt = (v) => `"${String(v)}"`;
const concat = (...parts: Fmt[]): Fmt => (v) => {
  const list = (v as { concat?: unknown[] })?.concat;
  if (!Array.isArray(list) || list.length !== parts.length) throw new Error(`nft JSON: bad concat ${JSON.stringify(v)}`);
  return list.map((x, i) => parts[i]!(x)).join(' . ');
};

const FORMAT: Record<MapName, [Fmt, Fmt]> = {
  zone_by_iface: [ifname, int],
  zone_mark: [int, mark],
  fip4_dnat: [addr, addr],
  fip4_snat: [concat(int, addr), addr],
  fip4_mark: [addr, mark],
  fip6_dnat: [addr, addr],
  fip6_snat: [concat(int, addr), addr],
  fip6_mark: [addr, mark],
};

/** An element key may come wrapped as `{elem: {val, timeout, comment…}}`. */
function unwrap(v: unknown): unknown {
  const e = (v as { elem?: { val?: unknown } })?.elem;
  return e && typeof e === 'object' && 'val' in e ? e.val : v;
}

export function parseNftJson(json: string, table: string): NftCurrent {
  const doc = JSON.parse(json) as { nftables?: Array<Record<string, any>> };
  const cur: NftCurrent = { table: false, maps: {}, chains: {} };
  const mapNames = new Set<string>(MAP_NAMES);
  const chainNames = new Set<string>(CHAIN_NAMES);
  for (const obj of doc.nftables ?? []) {
    if (obj.table && obj.table.family === 'inet' && obj.table.name === table) cur.table = true;
    const m = obj.map;
    if (m && m.family === 'inet' && m.table === table && mapNames.has(m.name)) {
      const name = m.name as MapName;
      const [fk, fv] = FORMAT[name];
      const els = new Map<string, string>();
      for (const pair of (m.elem ?? []) as unknown[]) {
        if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`nft JSON: bad element in ${name}: ${JSON.stringify(pair)}`);
        els.set(fk(unwrap(pair[0])), fv(unwrap(pair[1])));
      }
      cur.maps[name] = els;
    }
    const c = obj.chain;
    if (c && c.family === 'inet' && c.table === table && chainNames.has(c.name)) cur.chains[c.name as ChainName] ??= [];
    const r = obj.rule;
    if (r && r.family === 'inet' && r.table === table && chainNames.has(r.chain)) {
      (cur.chains[r.chain as ChainName] ??= []).push(typeof r.comment === 'string' ? r.comment : '');
    }
  }
  return cur;
}
