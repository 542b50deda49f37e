// Adj-RIB-Out of one peer (RFC 4271 §3.2): per family, what we have advertised (`sent`)
// and what changed since (`dirty` keys, an initial-dump scan of the Loc-RIB, a route
// refresh re-send). drain() turns changes into packed UPDATEs lazily, so a route that
// flaps twice before the session writes costs one UPDATE entry, and the session paces
// itself by how many bytes it asks for. Changes wait in buckets of equal outgoing
// attributes until a bucket fills an UPDATE (or nothing else is left to gather).
// End-of-RIB (RFC 4724 §2) follows the initial dump; enhanced route refresh (RFC 7313
// §4) wraps a re-send in BoRR/EoRR.
import type { CodecContext, Family, Nlri } from '../codec/index.js';
import { AttrSet, type AttrTable } from './attrs.js';
import { endOfRib, nlriSize, refreshMarker, UpdateBuilder } from './pack.js';
import { compositeKey, splitComposite, type RouteKey } from './keys.js';
import { RouteKeyMap } from './keymap.js';

/** An advertised route whose NLRI the key does not rebuild (labeled, VPN, EVPN). */
export class OutRoute {
  constructor(readonly attrs: AttrSet, readonly nlri: Nlri) {}
}

/** What the Adj-RIB-Out holds per key: the attribute set itself for plain families. */
export type Sent = AttrSet | OutRoute;

const attrsOf = (s: Sent): AttrSet => (s instanceof AttrSet ? s : s.attrs);
const nlriOf = (s: Sent): Nlri | undefined => (s instanceof AttrSet ? undefined : s.nlri);

/** Where the Adj-RIB-Out gets the routes it should advertise (the RIB, after export rules). */
export interface ExportSource {
  readonly table: AttrTable;
  /** The advertisement for `key`, or undefined when nothing should be advertised. */
  desired(family: Family, key: RouteKey): Sent | undefined;
  /** Add-path: every advertisement for `key` with its transmit path ID. */
  desiredAll(family: Family, key: RouteKey): Array<[number, Sent]>;
  /**
   * Entries of the Loc-RIB (for the initial dump): each key with an opaque handle on its
   * paths, which `desiredAt` takes back so that the dump looks each key up once.
   */
  entries(family: Family): Iterator<[RouteKey, unknown]>;
  /** desired() for a key whose Loc-RIB handle the caller holds (from entries()). */
  desiredAt(family: Family, key: RouteKey, handle: unknown): Sent | undefined;
}

/**
 * Keys waiting to be sent with one attribute set (null: withdrawals), in arrival order.
 * Entries are checked against `sent` when written, so a key that changed again since
 * is skipped here and sent from the bucket of its newer state (no removal needed).
 */
class Bucket {
  /** Route keys, or "key\\0txId" under add-path. */
  keys: RouteKey[] = [];
  nlris: Array<Nlri | undefined> = [];
  pos = 0;
  bytes = 0;
  /** Set when some key changed after being bucketed: entries must then be checked against `sent`. */
  mayBeStale = false;
  constructor(readonly attrs: AttrSet | null) {}

  get empty(): boolean {
    return this.pos >= this.keys.length;
  }
}

export class FamilyOut {
  /** Keyed by route key, or by compositeKey(key, txId) under add-path. */
  readonly sent = new RouteKeyMap<Sent>();
  readonly dirty = new Set<RouteKey>();
  scan: Iterator<[RouteKey, unknown]> | undefined;
  resend: Iterator<[RouteKey, Sent]> | undefined;
  readonly buckets = new Map<AttrSet | null, Bucket>();
  pendingBytes = 0;
  eorPending = false;
  eorrPending = false;
  markers: Buffer[] = [];
  /** Add-path: transmit path IDs advertised per key. */
  readonly txIds: Map<RouteKey, number[]> | undefined;
  readonly builder: UpdateBuilder;

  constructor(readonly family: Family, readonly addPath: boolean, ctx: CodecContext, maxLength: number) {
    this.txIds = addPath ? new Map() : undefined;
    this.builder = new UpdateBuilder(family, ctx, maxLength);
  }
}

export interface DrainStats {
  updates: number;
  prefixes: number;
  withdrawals: number;
}

export class AdjRibOut {
  readonly families = new Map<Family, FamilyOut>();
  readonly stats: DrainStats = { updates: 0, prefixes: 0, withdrawals: 0 };
  private readonly maxLength: number;

  constructor(readonly ctx: CodecContext, families: Iterable<Family>, private readonly source: ExportSource) {
    this.maxLength = ctx.extendedMessage ? 65535 : 4096;
    for (const f of families) this.families.set(f, new FamilyOut(f, ctx.addPath.has(f), ctx, this.maxLength));
  }

  /** Starts the initial dump of every family, to be followed by End-of-RIB. */
  startDump(): void {
    for (const fo of this.families.values()) {
      fo.scan = this.source.entries(fo.family);
      fo.eorPending = true;
    }
  }

  /** Re-evaluates every Loc-RIB key (export policy changed); End-of-RIB state is untouched. */
  rescan(): void {
    for (const fo of this.families.values()) fo.scan = this.source.entries(fo.family);
  }

  markDirty(family: Family, key: RouteKey): void {
    this.families.get(family)?.dirty.add(key);
  }

  /** Re-advertises everything sent for `family` (route refresh, RFC 2918 §4), between BoRR and EoRR when `enhanced`. */
  refresh(family: Family, enhanced: boolean): boolean {
    const fo = this.families.get(family);
    if (!fo) return false;
    fo.resend = fo.sent.entries();
    if (enhanced) {
      fo.markers.push(refreshMarker(family, 1));
      fo.eorrPending = true;
    }
    return true;
  }

  /** Whether drain() would return something. */
  get pending(): boolean {
    for (const fo of this.families.values()) {
      if (fo.scan || fo.resend || fo.dirty.size || fo.buckets.size || fo.eorPending || fo.eorrPending || fo.markers.length) return true;
    }
    return false;
  }

  /** Encoded messages (UPDATEs, End-of-RIB, refresh markers) of about `maxBytes` in all (at least one message when any is pending). */
  drain(maxBytes: number): Buffer[] {
    const out: Buffer[] = [];
    let bytes = 0;
    const target = Math.min(Math.max(maxBytes, 2 * this.maxLength), 4 << 20);
    for (const fo of this.families.values()) {
      for (const m of fo.markers) {
        out.push(m);
        bytes += m.length;
      }
      fo.markers = [];
      while (bytes < maxBytes) {
        const exhausted = this.pull(fo, target);
        let n = this.emit(fo, out, false, maxBytes - bytes);
        if (n === 0 && (exhausted || fo.pendingBytes >= target)) n = this.emit(fo, out, true, maxBytes - bytes);
        bytes += n;
        if (exhausted && fo.buckets.size === 0) {
          if (fo.eorPending) {
            const m = endOfRib(fo.family, this.ctx);
            out.push(m);
            bytes += m.length;
            fo.eorPending = false;
          }
          if (fo.eorrPending) {
            const m = refreshMarker(fo.family, 2);
            out.push(m);
            bytes += m.length;
            fo.eorrPending = false;
          }
          break;
        }
      }
      if (bytes >= maxBytes) break;
    }
    return out;
  }

  /** Gathers changes into buckets until `target` bytes of NLRI wait; true when no change is left. */
  private pull(fo: FamilyOut, target: number): boolean {
    while (fo.pendingBytes < target) {
      if (fo.scan) {
        const r = fo.scan.next();
        if (r.done) fo.scan = undefined;
        else if (fo.txIds) this.process(fo, r.value[0]);
        else this.put(fo, r.value[0], this.source.desiredAt(fo.family, r.value[0], r.value[1]));
        continue;
      }
      if (fo.resend) {
        const r = fo.resend.next();
        if (r.done) fo.resend = undefined;
        else this.bucket(fo, attrsOf(r.value[1]), r.value[0], nlriOf(r.value[1]));
        continue;
      }
      if (fo.dirty.size === 0) return true;
      for (const k of fo.dirty) {
        fo.dirty.delete(k);
        this.process(fo, k);
        if (fo.pendingBytes >= target) return false;
      }
    }
    return false;
  }

  private process(fo: FamilyOut, key: RouteKey): void {
    if (!fo.txIds) {
      this.put(fo, key, this.source.desired(fo.family, key));
      return;
    }
    const want = this.source.desiredAll(fo.family, key);
    const old = fo.txIds.get(key);
    if (old) {
      for (const id of old) if (!want.some(([w]) => w === id)) this.put(fo, compositeKey(key, id), undefined);
    }
    for (const [id, s] of want) this.put(fo, compositeKey(key, id), s);
    if (want.length) fo.txIds.set(key, want.map(([id]) => id));
    else fo.txIds.delete(key);
  }

  private put(fo: FamilyOut, ck: RouteKey, want: Sent | undefined): void {
    const cur = fo.sent.get(ck);
    const table = this.source.table;
    if (want === undefined) {
      if (cur === undefined) return;
      this.moved(fo);
      fo.sent.delete(ck);
      this.bucket(fo, null, ck, nlriOf(cur));
      table.release(attrsOf(cur));
      return;
    }
    if (cur !== undefined) {
      if (attrsOf(cur) === attrsOf(want) && nlriOf(cur) === nlriOf(want)) return;
      this.moved(fo);
      table.release(attrsOf(cur));
    } else if (fo.buckets.has(null)) this.moved(fo);
    table.ref(attrsOf(want));
    fo.sent.set(ck, want);
    this.bucket(fo, attrsOf(want), ck, nlriOf(want));
  }

  private bucket(fo: FamilyOut, attrs: AttrSet | null, ck: RouteKey, nlri: Nlri | undefined): void {
    let b = fo.buckets.get(attrs);
    if (!b) fo.buckets.set(attrs, (b = new Bucket(attrs)));
    b.keys.push(ck);
    b.nlris.push(nlri);
    const n = nlriSize(fo.family, fo.addPath ? splitComposite(fo.family, ck as string).key : ck, nlri, fo.addPath);
    b.bytes += n;
    fo.pendingBytes += n;
  }

  /** A key already waiting in some bucket may have changed: entries waiting now need checking. */
  private moved(fo: FamilyOut): void {
    for (const b of fo.buckets.values()) b.mayBeStale = true;
  }

  /** Whether a bucket entry still says what should be sent for its key. */
  private current(fo: FamilyOut, b: Bucket, ck: RouteKey): boolean {
    if (!b.mayBeStale) return true;
    const s = fo.sent.get(ck);
    return b.attrs === null ? s === undefined : s !== undefined && attrsOf(s) === b.attrs;
  }

  /** Writes UPDATEs from buckets: only full ones unless `flush`. Returns the bytes written. */
  private emit(fo: FamilyOut, out: Buffer[], flush: boolean, budget: number): number {
    let bytes = 0;
    const withdraw = fo.buckets.get(null);
    const order = withdraw ? [withdraw, ...[...fo.buckets.values()].filter((b) => b !== withdraw)] : [...fo.buckets.values()];
    const builder = fo.builder;
    for (const b of order) {
      const room = b.attrs ? builder.room(b.attrs) : builder.withdrawRoom();
      while (!b.empty && bytes < budget && (flush || b.bytes >= room)) {
        if (b.attrs) builder.beginAnnounce(b.attrs);
        else builder.beginWithdraw();
        for (; b.pos < b.keys.length; b.pos++) {
          const ck = b.keys[b.pos]!;
          const nlri = b.nlris[b.pos];
          const before = builder.size;
          if (this.current(fo, b, ck)) {
            let key = ck;
            let pathId: number | undefined;
            if (fo.addPath) ({ key, id: pathId } = splitComposite(fo.family, ck as string));
            if (!builder.add({ key, nlri, pathId })) {
              if (builder.count === 0) throw new RangeError(`NLRI ${key} does not fit an UPDATE`);
              break;
            }
          }
          // Stale entries were counted when bucketed; account for them as if written.
          const n = this.size(fo, ck, nlri, builder.size - before);
          b.bytes -= n;
          fo.pendingBytes -= n;
        }
        if (builder.count > 0) {
          const msg = builder.end();
          out.push(msg);
          bytes += msg.length;
          this.stats.updates++;
          if (b.attrs) this.stats.prefixes += builder.count;
          else this.stats.withdrawals += builder.count;
        }
      }
      if (b.empty) {
        fo.pendingBytes -= b.bytes;
        fo.buckets.delete(b.attrs);
      } else if (b.pos > 4096 && b.pos * 2 > b.keys.length) {
        b.keys = b.keys.slice(b.pos);
        b.nlris = b.nlris.slice(b.pos);
        b.pos = 0;
      }
      if (bytes >= budget) break;
    }
    return bytes;
  }

  private size(fo: FamilyOut, ck: RouteKey, nlri: Nlri | undefined, written: number): number {
    return written > 0 ? written : nlriSize(fo.family, fo.addPath ? splitComposite(fo.family, ck as string).key : ck, nlri, fo.addPath);
  }

  /** Forgets everything (session down): releases the attribute sets held. */
  clear(): void {
    for (const fo of this.families.values()) {
      fo.sent.forEach((s) => this.source.table.release(attrsOf(s)));
      fo.sent.clear();
      fo.dirty.clear();
      fo.buckets.clear();
      fo.scan = fo.resend = undefined;
      fo.pendingBytes = 0;
    }
  }
}
