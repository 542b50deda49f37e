// bgp/mrt — MRT import (RFC 6396 TABLE_DUMP_V2, RFC 8050 add-path subtypes): read a
// table dump and load its routes into the RIB as locally originated routes.
import type { AttrSet, Rib } from '../rib/index.js';
import type { PathAttribute } from '../codec/index.js';
import { TableDumpReader, type MrtStats, type MrtTable } from './tabledump.js';

export { readTableDump, TableDumpReader, decodeAttributes, MrtError, MRT_TABLE_DUMP_V2, type MrtPeer, type MrtRoute, type MrtStats, type MrtTable } from './tabledump.js';

export interface LoadOptions {
  /** 'first' (default): one route per prefix, the first entry; 'all': every entry, as distinct local paths. */
  entries?: 'first' | 'all';
  /** Replace the next hop of every route (e.g. our own address); default: keep the file's. */
  nextHop?: string;
}

/** Loads an MRT TABLE_DUMP_V2 file's routes into the RIB as local routes. */
export function loadMrt(rib: Rib, buf: Uint8Array, opts: LoadOptions = {}): { routes: number; table: MrtTable | undefined; stats: MrtStats } {
  const l = new MrtLoader(rib, buf, opts);
  try {
    l.reader.read(Infinity);
  } finally {
    l.finish();
  }
  return { routes: l.routes, table: l.reader.table, stats: l.reader.stats };
}

class MrtLoader {
  readonly reader: TableDumpReader;
  routes = 0;
  /** The attribute set of the last route: consecutive records mostly carry the same attributes (the reader gives the same object for equal ones). */
  private last: { attrs: PathAttribute[]; nextHop: string[]; set: AttrSet } | undefined;

  constructor(private readonly rib: Rib, buf: Uint8Array, opts: LoadOptions) {
    const all = opts.entries === 'all';
    const fixed = opts.nextHop ? [opts.nextHop] : undefined;
    this.reader = new TableDumpReader(buf, (r) => {
      if (!all && r.entry !== 0) return;
      const nh = fixed ?? r.nextHop;
      let m = this.last;
      if (!m || m.attrs !== r.attrs || m.nextHop !== nh) {
        if (m) rib.table.release(m.set);
        m = this.last = { attrs: r.attrs, nextHop: nh, set: rib.localAttrs(r.attrs, nh) };
      }
      rib.originateSet(r.family, r.nlri, m.set, all ? r.entry + 1 : 0);
      this.routes++;
    });
  }

  /** Releases the loader's own reference on the last attribute set. */
  finish(): void {
    if (this.last) this.rib.table.release(this.last.set);
    this.last = undefined;
  }
}
