// A Map from route keys (keys.ts) for the Adj-RIB-Out, where a full table is inserted in
// one initial dump. IPv4 /32 keys (non-zero int32s) live in an open-addressing table
// (Int32Array of keys beside an array of values, linear probing, backward-shift deletion);
// every other key in a plain Map.
// A full dump does one get and one set per route: for 1M /32 keys that took 410-440 ms
// with a V8 Map on this kind of machine and 220-280 ms here, growth included (2026-11-25).
// Iteration takes a snapshot of the int32 keys and reads their values as it goes, so an
// iterator held while the map changes (a route refresh re-send) never skips a key that is
// still there; keys added after it started may not be visited (Map would visit them; a
// route refresh re-send does not need them: AdjRibOut bucketed each key when it was set).
import type { RouteKey } from './keys.js';

const EMPTY = 0;
const MIN_CAPACITY = 16;

/** Home slot of an int32 key (Fibonacci hashing, top bits of the product). */
function home(k: number, shift: number): number {
  return Math.imul(k, 0x9e3779b1) >>> shift;
}

export class RouteKeyMap<V> {
  private keys = new Int32Array(MIN_CAPACITY);
  private vals: Array<V | undefined> = new Array<V | undefined>(MIN_CAPACITY).fill(undefined);
  private shift = 32 - Math.log2(MIN_CAPACITY);
  private ints = 0;
  private readonly other = new Map<RouteKey, V>();

  get size(): number {
    return this.ints + this.other.size;
  }

  get(k: RouteKey): V | undefined {
    if (!isSlotKey(k)) return this.other.get(k);
    const ks = this.keys;
    const mask = ks.length - 1;
    for (let i = home(k, this.shift); ; i = (i + 1) & mask) {
      const x = ks[i]!;
      if (x === k) return this.vals[i];
      if (x === EMPTY) return undefined;
    }
  }

  has(k: RouteKey): boolean {
    return this.get(k) !== undefined;
  }

  set(k: RouteKey, v: V): this {
    if (v === undefined) throw new TypeError('RouteKeyMap does not hold undefined');
    if (!isSlotKey(k)) {
      this.other.set(k, v);
      return this;
    }
    if ((this.ints + 1) * 2 > this.keys.length) this.grow();
    this.place(k, v);
    return this;
  }

  delete(k: RouteKey): boolean {
    if (!isSlotKey(k)) return this.other.delete(k);
    const ks = this.keys;
    const vs = this.vals;
    const mask = ks.length - 1;
    let i = home(k, this.shift);
    for (; ; i = (i + 1) & mask) {
      const x = ks[i]!;
      if (x === k) break;
      if (x === EMPTY) return false;
    }
    // Backward-shift deletion: pull later entries of the probe run into the hole unless
    // their home slot lies cyclically in (hole, j].
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const x = ks[j]!;
      if (x === EMPTY) break;
      const h = home(x, this.shift);
      const stays = i <= j ? i < h && h <= j : i < h || h <= j;
      if (stays) continue;
      ks[i] = x;
      vs[i] = vs[j];
      i = j;
    }
    ks[i] = EMPTY;
    vs[i] = undefined;
    this.ints--;
    return true;
  }

  clear(): void {
    this.keys = new Int32Array(MIN_CAPACITY);
    this.vals = new Array<V | undefined>(MIN_CAPACITY).fill(undefined);
    this.shift = 32 - Math.log2(MIN_CAPACITY);
    this.ints = 0;
    this.other.clear();
  }

  *entries(): IterableIterator<[RouteKey, V]> {
    const snapshot = this.keys.filter((x) => x !== EMPTY);
    for (const k of snapshot) {
      const v = this.get(k);
      if (v !== undefined) yield [k, v];
    }
    yield* this.other.entries();
  }

  /** Calls `fn` for every entry; `fn` must not change the map (no snapshot is taken). */
  forEach(fn: (v: V, k: RouteKey) => void): void {
    const ks = this.keys;
    const vs = this.vals;
    for (let i = 0; i < ks.length; i++) if (ks[i] !== EMPTY) fn(vs[i]!, ks[i]!);
    this.other.forEach(fn);
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[RouteKey, V]> {
    return this.entries();
  }

  /** Writes k (an int32 slot key) into the table, which has room. */
  private place(k: number, v: V): void {
    const ks = this.keys;
    const mask = ks.length - 1;
    for (let i = home(k, this.shift); ; i = (i + 1) & mask) {
      const x = ks[i]!;
      if (x === k) {
        this.vals[i] = v;
        return;
      }
      if (x === EMPTY) {
        ks[i] = k;
        this.vals[i] = v;
        this.ints++;
        return;
      }
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const cap = oldKeys.length * 2;
    this.keys = new Int32Array(cap);
    this.vals = new Array<V | undefined>(cap).fill(undefined);
    this.shift--;
    this.ints = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const x = oldKeys[i]!;
      if (x !== EMPTY) this.place(x, oldVals[i]!);
    }
  }
}

/** Keys kept in the typed table: non-zero int32s (IPv4 /32 keys; 0.0.0.0/32 goes to the Map). */
function isSlotKey(k: RouteKey): k is number {
  return typeof k === 'number' && (k | 0) === k && k !== EMPTY;
}
