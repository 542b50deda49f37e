// The minimal nft transaction that turns what the kernel has (parse.ts) into what we
// want (state.ts): create missing table/maps/chains, rewrite a chain only when its rules
// differ, delete and add only the elements that changed. One text batch for `nft -f -`,
// applied atomically by the kernel (all or nothing). Pure.

import { sortedEntries, CHAIN_DECL, CHAIN_NAMES, MAP_DECL, MAP_NAMES, ruleLine, type MapName, type NftDesired } from './state.js';
import type { NftCurrent } from './parse.js';

export interface NftDiff {
  /** nft script; '' when nothing differs. */
  batch: string;
  /** FIPs whose mapping was removed or changed: their conntrack entries must go. */
  staleFips: string[];
  /** Elements added / deleted, and chains rewritten (for logs and metrics). */
  added: number;
  deleted: number;
  chains: string[];
}

const CHUNK = 2000;

function elementLines(verb: 'add' | 'delete', table: string, map: string, items: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(`${verb} element inet ${table} ${map} { ${items.slice(i, i + CHUNK).join(', ')} }`);
  return out;
}

export function diffNft(want: NftDesired, cur: NftCurrent, table: string): NftDiff {
  const head: string[] = [];
  const dels: string[] = [];
  const adds: string[] = [];
  const rules: string[] = [];
  const stale = new Set<string>();
  let added = 0;
  let deleted = 0;
  if (!cur.table) head.push(`add table inet ${table}`);
  for (const m of MAP_NAMES) {
    const have = cur.maps[m];
    if (!have) head.push(`add map inet ${table} ${m} { ${MAP_DECL[m]}; }`);
    const goal = want.maps[m];
    const gone: string[] = [];
    const fresh: string[] = [];
    if (have) {
      for (const [k, v] of have) {
        const w = goal.get(k);
        if (w === v) continue;
        gone.push(k);
        noteStale(m, k, v, stale);
      }
    }
    // sort only what is sent (a resync with nothing to change sorts nothing)
    const missing = new Map<string, string>();
    for (const [k, v] of goal) if (have?.get(k) !== v) missing.set(k, v);
    for (const [k, v] of sortedEntries(missing)) fresh.push(`${k} : ${v}`);
    dels.push(...elementLines('delete', table, m, gone));
    adds.push(...elementLines('add', table, m, fresh));
    added += fresh.length;
    deleted += gone.length;
  }
  const chains: string[] = [];
  for (const c of CHAIN_NAMES) {
    const have = cur.chains[c];
    if (!have) head.push(`add chain inet ${table} ${c}${CHAIN_DECL[c] ? ` { ${CHAIN_DECL[c]} }` : ''}`);
    const goal = want.chains[c];
    if (have && have.length === goal.length && have.every((cm, i) => cm === goal[i]!.comment)) continue;
    chains.push(c);
    if (have && have.length) rules.push(`flush chain inet ${table} ${c}`);
    for (const r of goal) rules.push(`add rule inet ${table} ${c} ${ruleLine(r)}`);
  }
  const lines = [...head, ...dels, ...adds, ...rules];
  return { batch: lines.length ? lines.join('\n') + '\n' : '', staleFips: [...stale].sort(), added, deleted, chains };
}

/** A FIP's flows are stale when its DNAT target or its SNAT source changed or went. */
function noteStale(m: MapName, key: string, value: string, stale: Set<string>): void {
  if (m === 'fip4_dnat' || m === 'fip6_dnat') stale.add(key);
  else if (m === 'fip4_snat' || m === 'fip6_snat') stale.add(value);
}
