// etcd v3 driver: the KvBackend contract over npm `etcd3` (gRPC), for clusters.
// Reads, transactions and compaction use the raw KV service; leases use etcd3's
// Lease (keepalive every TTL/3). Watches are etcd3 watchers with one correction:
// we count revisions ourselves and, on every disconnect, restart the watch from
// the last revision we delivered + 1 and drop anything at or below it, so a watch
// survives etcd restarts and member failures without losing or repeating events
// (etcd3 alone resumes from the revision in the last response header, which can
// run ahead of the events actually delivered while a watch is catching up).
import { Etcd3, isRecoverableError, type IOptions, type Watcher } from 'etcd3';
import { StoreError } from './errors.js';
import type { KvBackend, KvCompare, KvEntry, KvEvent, KvLease, KvOp, KvTxnResult, KvWatchHandle } from './kv.js';
import { MAX_TXN_OPS } from './kv.js';
import { createIntentStore, type IntentStore, type IntentStoreOptions } from './store.js';

/** Keys per range page: ~2,000 intent objects stay far below gRPC's 4 MiB message cap. */
const RANGE_PAGE = 2000;

export interface EtcdOptions {
  /** e.g. ['http://127.0.0.1:2379']; several members of one cluster for failover. */
  endpoints: string[];
  /** Connect timeout (ms, default 5000). */
  dialTimeoutMs?: number;
  /** Deadline of each unary call (ms, default 5000). */
  callTimeoutMs?: number;
  /** Watch reconnect backoff: first delay and cap (ms, default 100 and 2000). */
  watchBackoffMs?: { initial: number; max: number };
}

/** The raw key/value fields as etcd3 returns them (revisions are decimal strings). */
interface RawKv {
  key: Buffer;
  value: Buffer;
  create_revision: string;
  mod_revision: string;
  version: string;
  lease: string;
}

type FaultHandling = NonNullable<IOptions['faultHandling']>;

function passThrough(): { execute<T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> } {
  return { execute: async (fn) => fn({ signal: new AbortController().signal }) };
}

interface Backoff {
  readonly duration: number;
  next(): Backoff;
}

function backoff(initial: number, max: number): Backoff {
  const make = (d: number): Backoff => ({ duration: d, next: () => make(Math.min(max, d * 2)) });
  return { duration: initial, next: () => make(initial) };
}

/**
 * Per-member circuit breaker used instead of etcd3's default: after `threshold`
 * consecutive connection-level failures a member is skipped for `openMs` (calls go
 * to the other members), then tried again; one more failure opens it again. No
 * timers, so a closed client never keeps the process alive.
 */
function memberBreaker(threshold: number, openMs: number): { execute<T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> } {
  let failures = 0;
  let openUntil = 0;
  return {
    async execute<T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> {
      if (Date.now() < openUntil) throw new StoreError('EF_STORE_UNAVAILABLE', 'etcd member skipped after repeated failures');
      try {
        const r = await fn({ signal: new AbortController().signal });
        failures = 0;
        openUntil = 0;
        return r;
      } catch (err) {
        if (isRecoverableError(err as Error) && (++failures >= threshold || openUntil !== 0)) {
          openUntil = Date.now() + openMs;
          failures = 0;
        }
        throw err;
      }
    },
  };
}

export class EtcdKv implements KvBackend {
  readonly client: Etcd3;
  private readonly watchers = new Set<Watcher>();
  private readonly leases = new Set<{ release(): void }>();
  private readonly callTimeoutMs: number;
  private closed = false;

  constructor(o: EtcdOptions) {
    const b = o.watchBackoffMs ?? { initial: 100, max: 2000 };
    this.callTimeoutMs = o.callTimeoutMs ?? 5000;
    const opts: IOptions = {
      hosts: o.endpoints,
      dialTimeout: o.dialTimeoutMs ?? 5000,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + this.callTimeoutMs }),
      faultHandling: {
        watchBackoff: backoff(b.initial, b.max) as unknown as FaultHandling['watchBackoff'],
        // One member: no breaker (nothing to fail over to). Several: skip a failing member for 1 s.
        host: () => (o.endpoints.length > 1 ? memberBreaker(3, 1000) : passThrough()) as unknown as ReturnType<NonNullable<FaultHandling['host']>>,
      },
    };
    this.client = new Etcd3(opts);
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('EF_STORE_CLOSED', 'the etcd store is closed');
    try {
      return await fn();
    } catch (err) {
      throw mapError(what, err);
    }
  }

  async get(key: string): Promise<KvEntry | undefined> {
    const res = await this.call('get', () => this.client.kv.range({ key: Buffer.from(key) }));
    const kv = res.kvs[0] as RawKv | undefined;
    return kv ? toEntry(kv) : undefined;
  }

  async getMany(keys: string[]): Promise<Array<KvEntry | undefined>> {
    if (keys.length === 0) return [];
    if (keys.length === 1) return [await this.get(keys[0]!)];
    if (keys.length > MAX_TXN_OPS) throw new StoreError('EF_STORE_TXN_TOO_LARGE', `at most ${MAX_TXN_OPS} keys per read`);
    // A read-only transaction: every key at the same revision, one round trip.
    const success = keys.map((k) => ({ request_range: { key: Buffer.from(k) } }));
    const res = await this.call('read', () => this.client.kv.txn({ compare: [], success, failure: [] }));
    return res.responses.map((r) => {
      const kv = r.response_range.kvs[0] as RawKv | undefined;
      return kv ? toEntry(kv) : undefined;
    });
  }

  async read(keys: string[], prefixes: string[]): Promise<{ values: Array<KvEntry | undefined>; ranges: KvEntry[][]; revision: number }> {
    if (keys.length + prefixes.length > MAX_TXN_OPS) throw new StoreError('EF_STORE_TXN_TOO_LARGE', `at most ${MAX_TXN_OPS} keys and prefixes per read`);
    const success = [
      ...keys.map((k) => ({ request_range: { key: Buffer.from(k) } })),
      ...prefixes.map((p) => {
        const key = Buffer.from(p);
        return { request_range: { key, range_end: prefixEnd(key) } };
      }),
    ];
    const res = await this.call('read', () => this.client.kv.txn({ compare: [], success, failure: [] }));
    const all = res.responses.map((r) => (r.response_range.kvs as RawKv[]).map(toEntry));
    return { values: all.slice(0, keys.length).map((x) => x[0]), ranges: all.slice(keys.length), revision: Number(res.header.revision) };
  }

  /** Pages through the prefix (gRPC messages are capped at 4 MiB), every page at the first page's revision. */
  async range(prefix: string): Promise<{ entries: KvEntry[]; revision: number }> {
    const end = prefixEnd(Buffer.from(prefix));
    const entries: KvEntry[] = [];
    let key = Buffer.from(prefix);
    let revision: string | undefined;
    for (;;) {
      const res = await this.call('range', () => this.client.kv.range({ key, range_end: end, limit: RANGE_PAGE, ...(revision ? { revision } : {}) }));
      revision ??= res.header.revision;
      const kvs = res.kvs as RawKv[];
      entries.push(...kvs.map(toEntry));
      if (!res.more || kvs.length === 0) break;
      key = Buffer.concat([kvs[kvs.length - 1]!.key, Buffer.from([0])]);
    }
    return { entries, revision: Number(revision) };
  }

  async txn(compares: KvCompare[], ops: KvOp[]): Promise<KvTxnResult> {
    if (compares.length > MAX_TXN_OPS || ops.length > MAX_TXN_OPS) {
      throw new StoreError('EF_STORE_TXN_TOO_LARGE', `at most ${MAX_TXN_OPS} compares and ${MAX_TXN_OPS} operations per transaction`);
    }
    const compare = compares.map((c) => {
      const result = ({ '==': 'Equal', '!=': 'NotEqual', '<': 'Less', '>': 'Greater' } as const)[c.op];
      const key = Buffer.from(c.key);
      switch (c.target) {
        case 'mod': return { key, result, target: 'Mod' as const, mod_revision: c.value };
        case 'create': return { key, result, target: 'Create' as const, create_revision: c.value };
        case 'version': return { key, result, target: 'Version' as const, version: c.value };
        case 'value': return { key, result, target: 'Value' as const, value: Buffer.from(c.value) };
      }
    });
    const success = ops.map((op) =>
      op.type === 'put'
        ? { request_put: { key: Buffer.from(op.key), value: Buffer.from(op.value), ...(op.lease ? { lease: op.lease } : {}) } }
        : { request_delete_range: { key: Buffer.from(op.key) } },
    );
    const res = await this.call('txn', () => this.client.kv.txn({ compare, success, failure: [] }));
    return { succeeded: res.succeeded, revision: Number(res.header.revision) };
  }

  async watch(prefix: string, fromRevision: number, onEvents: (events: KvEvent[]) => void, onError: (err: Error) => void): Promise<KvWatchHandle> {
    if (this.closed) throw new StoreError('EF_STORE_CLOSED', 'the etcd store is closed');
    let builder = this.client.watch().prefix(prefix).withPreviousKV();
    if (fromRevision > 0) builder = builder.startRevision(String(fromRevision));
    let delivered = fromRevision > 0 ? fromRevision - 1 : -1;
    let stopped = false;
    const watcher = builder.watcher(); // attaches itself; listeners below are in place before etcd answers
    this.watchers.add(watcher);
    const request = watcher.request as { start_revision?: string | number };
    watcher.on('data', (res) => {
      if (stopped || !res.events || res.events.length === 0) return;
      // Group by revision (one transaction = one revision = one batch), skip what we already delivered.
      let batch: KvEvent[] = [];
      let batchRev = -1;
      const flush = (): void => {
        if (batch.length && !stopped) onEvents(batch);
        batch = [];
      };
      const floor = delivered; // a response never splits one revision; anything ≤ floor was delivered before
      for (const ev of res.events) {
        const rev = Number(ev.kv.mod_revision);
        if (floor >= 0 && rev <= floor) continue;
        if (rev !== batchRev) {
          flush();
          batchRev = rev;
        }
        batch.push({
          type: ev.type === 'Delete' ? 'delete' : 'put',
          key: ev.kv.key.toString(),
          value: ev.type === 'Delete' ? null : ev.kv.value.toString(),
          prevValue: ev.prev_kv ? ev.prev_kv.value.toString() : null,
          revision: rev,
          createRevision: ev.type === 'Delete' ? 0 : Number(ev.kv.create_revision),
        });
        delivered = rev;
      }
      flush();
    });
    watcher.on('connected', (res) => {
      // A watch "from now" pins its start to the revision etcd created it at, so a
      // reconnect replays what happened while we were away.
      if (delivered < 0) delivered = Number(res.header.revision);
    });
    watcher.on('disconnected', () => {
      if (delivered >= 0) request.start_revision = String(delivered + 1);
    });
    watcher.on('error', (err) => {
      if (stopped) return;
      stopped = true;
      this.watchers.delete(watcher);
      void this.classifyWatchError(err, delivered + 1).then(onError);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        watcher.once('connected', () => resolve());
        watcher.once('error', reject);
      });
    } catch {
      // Reported through onError above (e.g. a compacted start revision).
    }
    return {
      cancel: async () => {
        stopped = true;
        this.watchers.delete(watcher);
        await watcher.cancel().catch(() => undefined);
      },
    };
  }

  private async classifyWatchError(err: Error, next: number): Promise<Error> {
    if (/compact/i.test(err.message)) {
      return new StoreError('EF_STORE_COMPACTED', `revision ${next} is compacted; list again and watch from its revision + 1`, { cause: err });
    }
    // etcd cancels a watch at a compacted revision, sometimes without a reason: ask it directly.
    try {
      await this.client.kv.range({ key: Buffer.from('/'), revision: next, count_only: true });
    } catch (e) {
      if (/compact/i.test((e as Error).message)) {
        return new StoreError('EF_STORE_COMPACTED', `revision ${next} is compacted; list again and watch from its revision + 1`, { cause: err });
      }
    }
    return new StoreError('EF_STORE_UNAVAILABLE', `watch failed: ${err.message}`, { cause: err });
  }

  async grantLease(ttlSeconds: number): Promise<KvLease> {
    if (this.closed) throw new StoreError('EF_STORE_CLOSED', 'the etcd store is closed');
    const lease = this.client.lease(ttlSeconds, { autoKeepAlive: true });
    const lost: Array<(err: Error) => void> = [];
    let wasLost: Error | undefined;
    lease.on('lost', (err) => {
      wasLost = err;
      this.leases.delete(lease);
      for (const cb of lost.splice(0)) cb(err);
    });
    let id: string;
    try {
      id = await lease.grant();
    } catch (err) {
      lease.release();
      throw mapError('lease grant', err);
    }
    this.leases.add(lease);
    return {
      id,
      revoke: async () => {
        this.leases.delete(lease);
        await lease.revoke().catch((err: unknown) => {
          throw mapError('lease revoke', err);
        });
      },
      release: () => {
        this.leases.delete(lease);
        lease.release();
      },
      onLost: (cb) => {
        if (wasLost) queueMicrotask(() => cb(wasLost!));
        else lost.push(cb);
      },
    };
  }

  async revision(): Promise<number> {
    const res = await this.call('revision', () => this.client.kv.range({ key: Buffer.from('/'), count_only: true }));
    return Number(res.header.revision);
  }

  async compact(revision: number): Promise<void> {
    await this.call('compact', () => this.client.kv.compact({ revision, physical: true }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Cancelling asks etcd; if it is gone, do not wait for an answer that never comes.
    await Promise.allSettled([...this.watchers].map((w) => withTimeout(w.cancel(), 1000)));
    this.watchers.clear();
    for (const l of this.leases) l.release();
    this.leases.clear();
    this.client.close();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let t: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<undefined>((r) => (t = setTimeout(() => r(undefined), ms)))]).finally(() => clearTimeout(t));
}

function toEntry(kv: RawKv): KvEntry {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    lease: kv.lease && kv.lease !== '0' ? kv.lease : null,
  };
}

/** The smallest key after every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

function mapError(what: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (/too many operations in txn/i.test(msg)) return new StoreError('EF_STORE_TXN_TOO_LARGE', `etcd ${what}: ${msg}`, { cause: err });
  if (/requested lease not found|lease not found/i.test(msg)) return new StoreError('EF_STORE_NOT_FOUND', `etcd ${what}: ${msg}`, { cause: err });
  if (/compacted/i.test(msg)) return new StoreError('EF_STORE_COMPACTED', `etcd ${what}: ${msg}`, { cause: err });
  return new StoreError('EF_STORE_UNAVAILABLE', `etcd ${what} failed: ${msg}`, { cause: err });
}

/** Opens an intent store on an etcd cluster. */
export function openEtcdStore(opts: EtcdOptions & IntentStoreOptions): IntentStore {
  return createIntentStore(new EtcdKv(opts), opts);
}
