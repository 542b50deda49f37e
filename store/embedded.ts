// Embedded single-machine driver: the KvBackend contract in memory, made durable by
// an append-only journal (group commit: one write + fdatasync per batch of
// concurrent transactions) and a periodic snapshot written to a temp file, fsynced
// and renamed. A write resolves only after its record is on disk; reads wait for
// writes already applied in memory, so nobody reads what a crash could still undo.
// Same semantics as etcd: revisions, compare-and-swap transactions, watches from a
// revision (bounded in-memory history, older → EF_STORE_COMPACTED), TTL leases
// (in-process; after a restart every lease gets a full TTL again, as in etcd).
import { mkdirSync } from 'node:fs';
import { open, readFile, rename, truncate, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from './errors.js';
import { decodeJournal, decodeSnapshot, encodeRecord, encodeSnapshot, type JournalRecord, type SnapshotState } from './journal.js';
import { MAX_TXN_OPS, compareHolds, type KvBackend, type KvCompare, type KvEntry, type KvEvent, type KvLease, type KvOp, type KvTxnResult, type KvWatchHandle } from './kv.js';
import { createIntentStore, type IntentStore, type IntentStoreOptions } from './store.js';

export interface EmbeddedClock {
  now(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const realClock: EmbeddedClock = {
  now: () => Date.now(),
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    t.unref();
    return t;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

export interface EmbeddedOptions {
  /** Directory holding `snapshot`, `journal` and `lock`; created if missing. */
  dir: string;
  /** fdatasync each commit batch (default true; false only for throw-away stores and benchmarks). */
  fsync?: boolean;
  /** Write a snapshot and start a new journal when the journal grows past this (default 8 MiB). */
  snapshotEveryBytes?: number;
  /** Revisions of events kept for watches that start in the past (default 10,000). */
  historyRevisions?: number;
  /** How often lease expiry is checked (ms, default 100). */
  leaseCheckMs?: number;
  clock?: EmbeddedClock;
}

interface Watcher {
  prefix: string;
  next: number;
  catchingUp: boolean;
  cancelled: boolean;
  onEvents: (events: KvEvent[]) => void;
}

interface LeaseState {
  id: string;
  ttl: number;
  expiresAt: number;
  keys: Set<string>;
  lost: Array<(err: Error) => void>;
  keepalive: unknown;
}

interface Pending {
  buf: Buffer;
  seq: number;
  revision: number;
  events: KvEvent[] | null;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class EmbeddedKv implements KvBackend {
  private readonly data = new Map<string, KvEntry>();
  private rev = 0;
  private seq = 0;
  private nextLeaseId = 0;
  private durableSeq = 0;
  private durableRev = 0;
  private firstWatchable = 1;
  private readonly history: Array<{ revision: number; events: KvEvent[] }> = [];
  private readonly watchers = new Set<Watcher>();
  private readonly leases = new Map<string, LeaseState>();
  private pending: Pending[] = [];
  private flushing = false;
  private readonly seqWaiters: Array<{ seq: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private journal: FileHandle | undefined;
  private journalBytes = 0;
  private failed: Error | undefined;
  private closed = false;
  private leaseTimer: unknown;
  private readonly fsync: boolean;
  private readonly snapshotEveryBytes: number;
  private readonly historyRevisions: number;
  private readonly clock: EmbeddedClock;
  /** Bytes cut off a torn journal tail when the store was opened (0 when the journal was clean). */
  repairedBytes = 0;

  private constructor(private readonly dir: string, o: EmbeddedOptions) {
    this.fsync = o.fsync ?? true;
    this.snapshotEveryBytes = o.snapshotEveryBytes ?? 8 * 1024 * 1024;
    this.historyRevisions = o.historyRevisions ?? 10_000;
    this.clock = o.clock ?? realClock;
    this.leaseTimer = this.clock.setInterval(() => this.expireLeases(), o.leaseCheckMs ?? 100);
  }

  static async open(o: EmbeddedOptions): Promise<EmbeddedKv> {
    mkdirSync(o.dir, { recursive: true });
    await takeLock(o.dir);
    const kv = new EmbeddedKv(o.dir, o);
    try {
      await kv.load();
    } catch (err) {
      await kv.close();
      throw err;
    }
    return kv;
  }

  private get snapshotPath(): string {
    return join(this.dir, 'snapshot');
  }
  private get journalPath(): string {
    return join(this.dir, 'journal');
  }

  private async load(): Promise<void> {
    const snapBuf = await readFile(this.snapshotPath).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
    let snapSeq = 0;
    if (snapBuf) {
      const s = decodeSnapshot(snapBuf);
      if (!s) throw new StoreError('EF_STORE_CORRUPT', `${this.snapshotPath} fails its checksum or is not an edgeflow snapshot`);
      for (const [key, value, createRevision, modRevision, version, lease] of s.entries) {
        this.data.set(key, { key, value, createRevision, modRevision, version, lease });
      }
      for (const l of s.leases) this.restoreLease(l.id, l.ttl);
      for (const e of this.data.values()) if (e.lease) this.leases.get(e.lease)?.keys.add(e.key);
      this.rev = s.revision;
      this.seq = snapSeq = s.seq;
      this.nextLeaseId = s.nextLeaseId;
    }
    const jBuf = await readFile(this.journalPath).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? Buffer.alloc(0) : Promise.reject(e)));
    const j = decodeJournal(jBuf);
    this.firstWatchable = this.rev + 1;
    for (const rec of j.records) {
      if (rec.s <= snapSeq) continue;
      const events = this.apply(rec);
      this.seq = rec.s;
      if (events.length) this.remember(rec.r, events);
    }
    if (j.discardedBytes > 0) {
      // A crash tore the last append: keep the valid prefix (those writes were acknowledged), drop the rest.
      await truncate(this.journalPath, j.validBytes);
      this.repairedBytes = j.discardedBytes;
    }
    this.journal = await open(this.journalPath, 'a');
    if (j.discardedBytes > 0) await this.journal.sync();
    this.journalBytes = j.validBytes;
    this.durableSeq = this.seq;
    this.durableRev = this.rev;
  }

  private restoreLease(id: string, ttl: number): void {
    this.leases.set(id, { id, ttl, expiresAt: this.clock.now() + ttl * 1000, keys: new Set(), lost: [], keepalive: undefined });
  }

  /** Applies a record to memory; returns the key events it produced. */
  private apply(rec: JournalRecord): KvEvent[] {
    const events: KvEvent[] = [];
    for (const l of rec.lg ?? []) {
      this.restoreLease(l.id, l.ttl);
      this.nextLeaseId = Math.max(this.nextLeaseId, Number(l.id));
    }
    for (const op of rec.o ?? []) {
      const key = 'p' in op ? op.p : op.d;
      const old = this.data.get(key);
      if (old?.lease) this.leases.get(old.lease)?.keys.delete(key);
      if ('p' in op) {
        const e: KvEntry = {
          key,
          value: op.v,
          createRevision: old ? old.createRevision : rec.r,
          modRevision: rec.r,
          version: old ? old.version + 1 : 1,
          lease: op.l ?? null,
        };
        this.data.set(key, e);
        if (e.lease) this.leases.get(e.lease)?.keys.add(key);
        events.push({ type: 'put', key, value: op.v, prevValue: old ? old.value : null, revision: rec.r, createRevision: e.createRevision });
      } else if (old) {
        this.data.delete(key);
        events.push({ type: 'delete', key, value: null, prevValue: old.value, revision: rec.r, createRevision: 0 });
      }
    }
    for (const id of rec.lr ?? []) this.leases.delete(id);
    this.rev = rec.r;
    return events;
  }

  private remember(revision: number, events: KvEvent[]): void {
    this.history.push({ revision, events });
    while (this.history.length > this.historyRevisions) {
      const dropped = this.history.shift()!;
      this.firstWatchable = dropped.revision + 1;
    }
  }

  private check(): void {
    if (this.closed) throw new StoreError('EF_STORE_CLOSED', 'the embedded store is closed');
    if (this.failed) throw new StoreError('EF_STORE_UNAVAILABLE', `the embedded store failed to write its journal: ${this.failed.message}`, { cause: this.failed });
  }

  /** Commits a record: applies it now, resolves once it is on disk. */
  private commit(rec: Omit<JournalRecord, 's' | 'r'>, bumpRevision: boolean): Promise<number> {
    const full: JournalRecord = { s: ++this.seq, r: bumpRevision ? this.rev + 1 : this.rev, ...rec };
    const events = this.apply(full);
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ buf: encodeRecord(full), seq: full.s, revision: full.r, events: events.length ? events : null, resolve: () => resolve(full.r), reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flushLoop());
      }
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        const buf = batch.length === 1 ? batch[0]!.buf : Buffer.concat(batch.map((b) => b.buf));
        try {
          await this.journal!.write(buf);
          if (this.fsync) await this.journal!.datasync();
        } catch (err) {
          this.failed = err as Error;
          const e = new StoreError('EF_STORE_UNAVAILABLE', `journal write failed: ${(err as Error).message}`, { cause: err });
          for (const b of [...batch, ...this.pending]) b.reject(e);
          this.pending = [];
          for (const w of this.seqWaiters.splice(0)) w.reject(e);
          return;
        }
        this.journalBytes += buf.length;
        const last = batch[batch.length - 1]!;
        this.durableSeq = last.seq;
        this.durableRev = last.revision;
        for (const b of batch) if (b.events) this.publish(b.revision, b.events);
        for (const b of batch) b.resolve();
        this.wakeSeqWaiters();
        if (this.journalBytes >= this.snapshotEveryBytes) await this.writeSnapshot();
      }
    } finally {
      this.flushing = false;
    }
  }

  private wakeSeqWaiters(): void {
    for (let i = this.seqWaiters.length - 1; i >= 0; i--) {
      const w = this.seqWaiters[i]!;
      if (w.seq <= this.durableSeq) {
        this.seqWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** Waits until everything applied in memory so far is durable (reads call this first). */
  private barrier(): Promise<void> {
    const seq = this.seq;
    if (seq <= this.durableSeq) return Promise.resolve();
    return new Promise((resolve, reject) => this.seqWaiters.push({ seq, resolve, reject }));
  }

  /** Writes a snapshot now (normally it happens when the journal passes snapshotEveryBytes). */
  async snapshot(): Promise<void> {
    this.check();
    await this.barrier();
    while (this.flushing) await new Promise((r) => setImmediate(r));
    this.flushing = true;
    try {
      await this.writeSnapshot();
    } finally {
      this.flushing = false;
      if (this.pending.length > 0) {
        this.flushing = true;
        setImmediate(() => void this.flushLoop());
      }
    }
  }

  /** Writes the whole state to `snapshot` (temp file, fsync, rename, fsync dir) and starts an empty journal. */
  private async writeSnapshot(): Promise<void> {
    const state: SnapshotState = {
      format: 'edgeflow-embedded/1',
      seq: this.seq,
      revision: this.rev,
      entries: [...this.data.values()].map((e) => [e.key, e.value, e.createRevision, e.modRevision, e.version, e.lease]),
      leases: [...this.leases.values()].map((l) => ({ id: l.id, ttl: l.ttl })),
      nextLeaseId: this.nextLeaseId,
    };
    const tmp = `${this.snapshotPath}.tmp`;
    await writeDurably(tmp, encodeSnapshot(state));
    await rename(tmp, this.snapshotPath);
    await syncDir(this.dir);
    // Records up to state.seq are in the snapshot; those appended since (pending) go to the new journal.
    const jtmp = `${this.journalPath}.tmp`;
    await writeDurably(jtmp, Buffer.alloc(0));
    await rename(jtmp, this.journalPath);
    await syncDir(this.dir);
    await this.journal?.close();
    this.journal = await open(this.journalPath, 'a');
    this.journalBytes = 0;
  }

  private publish(revision: number, events: KvEvent[]): void {
    this.remember(revision, events);
    for (const w of this.watchers) {
      if (w.catchingUp || w.cancelled || revision < w.next) continue;
      deliver(w, events);
      w.next = revision + 1;
    }
  }

  async get(key: string): Promise<KvEntry | undefined> {
    this.check();
    await this.barrier();
    const e = this.data.get(key);
    return e ? { ...e } : undefined;
  }

  async getMany(keys: string[]): Promise<Array<KvEntry | undefined>> {
    this.check();
    await this.barrier();
    return keys.map((k) => {
      const e = this.data.get(k);
      return e ? { ...e } : undefined;
    });
  }

  async read(keys: string[], prefixes: string[]): Promise<{ values: Array<KvEntry | undefined>; ranges: KvEntry[][]; revision: number }> {
    this.check();
    await this.barrier();
    const values = keys.map((k) => {
      const e = this.data.get(k);
      return e ? { ...e } : undefined;
    });
    const ranges = prefixes.map((p) => {
      const out: KvEntry[] = [];
      for (const e of this.data.values()) if (e.key.startsWith(p)) out.push({ ...e });
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
    return { values, ranges, revision: this.rev };
  }

  async range(prefix: string): Promise<{ entries: KvEntry[]; revision: number }> {
    this.check();
    await this.barrier();
    const entries: KvEntry[] = [];
    for (const e of this.data.values()) if (e.key.startsWith(prefix)) entries.push({ ...e });
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { entries, revision: this.rev };
  }

  async txn(compares: KvCompare[], ops: KvOp[]): Promise<KvTxnResult> {
    this.check();
    if (compares.length > MAX_TXN_OPS || ops.length > MAX_TXN_OPS) {
      throw new StoreError('EF_STORE_TXN_TOO_LARGE', `at most ${MAX_TXN_OPS} compares and ${MAX_TXN_OPS} operations per transaction`);
    }
    // Evaluated and applied synchronously: no other transaction can interleave.
    if (!compares.every((c) => compareHolds(c, this.data.get(c.key)))) {
      await this.barrier();
      return { succeeded: false, revision: this.rev };
    }
    for (const op of ops) {
      if (op.type === 'put' && op.lease !== undefined && !this.leases.has(op.lease)) {
        throw new StoreError('EF_STORE_NOT_FOUND', `lease ${op.lease} does not exist (expired or revoked)`);
      }
    }
    const o = ops.filter((op) => op.type === 'put' || this.data.has(op.key)).map((op) => (op.type === 'put' ? { p: op.key, v: op.value, ...(op.lease ? { l: op.lease } : {}) } : { d: op.key }));
    if (o.length === 0) {
      await this.barrier();
      return { succeeded: true, revision: this.rev };
    }
    const revision = await this.commit({ o }, true);
    return { succeeded: true, revision };
  }

  async watch(prefix: string, fromRevision: number, onEvents: (events: KvEvent[]) => void, onError: (err: Error) => void): Promise<KvWatchHandle> {
    this.check();
    const from = fromRevision > 0 ? fromRevision : this.durableRev + 1;
    const w: Watcher = { prefix, next: from, catchingUp: true, cancelled: false, onEvents };
    if (from < this.firstWatchable) {
      queueMicrotask(() => onError(new StoreError('EF_STORE_COMPACTED', `revision ${from} is compacted (oldest watchable revision is ${this.firstWatchable}); list again and watch from its revision + 1`)));
      return { cancel: async () => undefined };
    }
    this.watchers.add(w);
    queueMicrotask(() => {
      // Catch up from history, then go live; publish() skips us until then, so order holds.
      if (w.cancelled) return;
      for (const h of this.history) {
        if (h.revision < w.next || h.revision > this.durableRev) continue;
        deliver(w, h.events);
        w.next = h.revision + 1;
        if (w.cancelled) return;
      }
      w.catchingUp = false;
    });
    return {
      cancel: async () => {
        w.cancelled = true;
        this.watchers.delete(w);
      },
    };
  }

  async grantLease(ttlSeconds: number): Promise<KvLease> {
    this.check();
    const id = String(++this.nextLeaseId);
    await this.commit({ lg: [{ id, ttl: ttlSeconds }] }, false);
    const l = this.leases.get(id)!;
    const refresh = (): void => {
      const cur = this.leases.get(id);
      if (cur) cur.expiresAt = this.clock.now() + cur.ttl * 1000;
    };
    l.keepalive = this.clock.setInterval(refresh, Math.max(50, (ttlSeconds * 1000) / 3));
    return {
      id,
      revoke: async () => {
        this.clock.clearInterval(l.keepalive);
        if (!this.closed && !this.failed && this.leases.has(id)) await this.endLease(id);
      },
      release: () => this.clock.clearInterval(l.keepalive),
      onLost: (cb) => {
        l.lost.push(cb);
      },
    };
  }

  private endLease(id: string): Promise<number> {
    const l = this.leases.get(id);
    const keys = l ? [...l.keys] : [];
    return this.commit({ o: keys.map((d) => ({ d })), lr: [id] }, keys.length > 0);
  }

  private expireLeases(): void {
    if (this.closed || this.failed) return;
    const now = this.clock.now();
    for (const l of [...this.leases.values()]) {
      if (l.expiresAt > now) continue;
      this.clock.clearInterval(l.keepalive);
      const lost = l.lost.splice(0);
      this.endLease(l.id).then(
        () => { for (const cb of lost) cb(new StoreError('EF_STORE_NOT_FOUND', `lease ${l.id} expired`)); },
        () => undefined,
      );
    }
  }

  async revision(): Promise<number> {
    this.check();
    await this.barrier();
    return this.rev;
  }

  async compact(revision: number): Promise<void> {
    this.check();
    while (this.history.length > 0 && this.history[0]!.revision < revision) this.history.shift();
    this.firstWatchable = Math.max(this.firstWatchable, Math.min(revision, this.rev + 1));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.barrier().catch(() => undefined);
    while (this.flushing) await new Promise((r) => setImmediate(r));
    this.closed = true;
    this.clock.clearInterval(this.leaseTimer);
    for (const l of this.leases.values()) this.clock.clearInterval(l.keepalive);
    for (const w of this.watchers) w.cancelled = true;
    this.watchers.clear();
    await this.journal?.close();
    this.journal = undefined;
    await unlink(join(this.dir, 'lock')).catch(() => undefined);
  }
}

function deliver(w: Watcher, events: KvEvent[]): void {
  const mine = events.filter((e) => e.key.startsWith(w.prefix));
  if (mine.length === 0) return;
  try {
    w.onEvents(mine);
  } catch (err) {
    // A bug in the caller's handler must not break the store's commit loop; surface it.
    setImmediate(() => {
      throw err;
    });
  }
}

async function writeDurably(path: string, data: Buffer): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.write(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** One process per store directory: a lock file with our pid; a stale lock of a dead process is taken over. */
async function takeLock(dir: string): Promise<void> {
  const path = join(dir, 'lock');
  for (let i = 0; i < 2; i++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (pid > 0 && pidAlive(pid)) {
      throw new StoreError('EF_STORE_UNAVAILABLE', `${dir} is in use by process ${pid}${pid === process.pid ? ' (this process: close the other store first)' : ''}`);
    }
    await unlink(path).catch(() => undefined);
  }
  throw new StoreError('EF_STORE_UNAVAILABLE', `could not lock ${dir}`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Opens (or creates) an embedded intent store in `dir`. */
export async function openEmbeddedStore(opts: EmbeddedOptions & IntentStoreOptions): Promise<IntentStore> {
  const kv = await EmbeddedKv.open(opts);
  return createIntentStore(kv, opts);
}
