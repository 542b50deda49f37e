// bgp/mrt — MRT import (RFC 6396 TABLE_DUMP_V2, RFC 8050 add-path subtypes): read a
// table dump and load its routes into the RIB as locally originated routes.
import type { Rib } from '../rib/index.js';
import { readTableDump, type MrtStats, type MrtTable } from './tabledump.js';

export { readTableDump, decodeAttributes, MrtError, MRT_TABLE_DUMP_V2, type MrtPeer, type MrtRoute, type MrtStats, type MrtTable } from './tabledump.js';

export interface LoadOptions {
  /** 'first' (default): one route per prefix, the first entry; 'all': every entry, as distinct local paths. */
  entries?: 'first' | 'all';
  /** Replace the next hop of every route (e.g. our own address); default: keep the file's. */
  nextHop?: string;
}

/** Loads an MRT TABLE_DUMP_V2 file's routes into the RIB as local routes. */
export function loadMrt(rib: Rib, buf: Uint8Array, opts: LoadOptions = {}): { routes: number; table: MrtTable | undefined; stats: MrtStats } {
  let routes = 0;
  const all = opts.entries === 'all';
  const { table, stats } = readTableDump(buf, (r) => {
    if (!all && r.entry !== 0) return;
    const nh = opts.nextHop ? [opts.nextHop] : r.nextHop;
    rib.originate(r.family, r.nlri, r.attrs, nh, all ? r.entry + 1 : 0);
    routes++;
  });
  return { routes, table, stats };
}
