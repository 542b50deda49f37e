// The intent store: typed objects over a KvBackend (etcd or embedded), written once
// for both drivers. Every write is one backend transaction that carries its own
// guards (compare-and-swap on the object's revision, on the objects it refers to,
// and on unique-value index keys), so writes from many API replicas never interleave
// into an inconsistent state and a floating IP address is never given out twice.
import { randomUUID } from 'node:crypto';
import { StoreError, validationError, type FieldError } from './errors.js';
import { INDEX_ROOT, ROOT, indexKey, kindPrefix, objectKey, parseObjectKey } from './keys.js';
import { MAX_TXN_OPS, type KvBackend, type KvCompare, type KvEntry, type KvEvent, type KvLease, type KvOp, type KvTxnResult } from './kv.js';
import {
  checkReferences,
  idOf,
  isKind,
  isValidId,
  parseObject,
  referencesOf,
  sameIntent,
  uniqueKeys,
  type IntentObject,
  type Kind,
  type KindMap,
} from './model.js';
import { pickFreeAddress, poolSize } from './pool.js';

/** Allocation attempts that probe a random pool address before reading the used ones (see allocateFloatingIp). */
const RANDOM_PROBES = 6;

/** An object as stored, with its etcd-style revisions. */
export interface Stored<K extends Kind = Kind> {
  kind: K;
  id: string;
  value: KindMap[K];
  createRevision: number;
  /** Pass this as `expectRevision` to update or delete only if nothing changed since. */
  modRevision: number;
}

/** An object as a caller last saw it (from a read or a watch): its value and revisions. */
export type Known<K extends Kind = Kind> = Pick<Stored<K>, 'value' | 'createRevision' | 'modRevision'>;

/** Objects a caller has seen, by kind and id (undefined: not seen). */
export type KnownLookup = <K extends Kind>(kind: K, id: string) => Known<K> | undefined;

/** What callers may hand to put(): the object's JSON (validated and normalized by the store). */
export type Input<K extends Kind> = KindMap[K] | Record<string, unknown>;

export interface WriteOptions {
  /** Compare-and-swap: the object's current modRevision must equal this; 0 means "must not exist yet". */
  expectRevision?: number;
}

export type TxnOp =
  | { op: 'put'; kind: Kind; value: unknown; expectRevision?: number }
  | { op: 'delete'; kind: Kind; id: string; expectRevision?: number }
  /** Only a guard: the object's modRevision must equal expectRevision (0: absent). */
  | { op: 'check'; kind: Kind; id: string; expectRevision: number };

export type TxnOpResult = { op: 'put'; stored: Stored } | { op: 'delete'; kind: Kind; id: string; deleted: boolean } | { op: 'check' };

export interface TxnResult {
  revision: number;
  results: TxnOpResult[];
}

export interface IntentEvent {
  type: 'put' | 'delete';
  kind: Kind;
  id: string;
  /** The new object for a put; null for a delete. */
  value: IntentObject | null;
  /** The object before this event (null when it was created, or when the backend no longer has it). */
  prev: IntentObject | null;
  revision: number;
  /** The object's create revision for a put (0 for a delete). */
  createRevision: number;
}

export interface WatchOptions {
  /** Kinds to deliver (default: all). */
  kinds?: readonly Kind[];
  /** First revision to deliver (typically list().revision + 1). */
  fromRevision: number;
}

export interface IntentWatch {
  /** Revision of the last event delivered (fromRevision - 1 before the first). */
  lastRevision(): number;
  cancel(): Promise<void>;
}

export interface AllocateRequest {
  network: string;
  tenant: string;
  /** Default: a random UUID. */
  id?: string;
  /** A specific address (any free address of the network, in a pool or not); default: a free pool address. */
  address?: string;
  portId?: string | null;
  standbyPortId?: string | null;
  description?: string;
}

export interface ChassisRegistration {
  readonly chassis: string;
  /** Current lease id (changes when the registration is renewed after a loss). */
  leaseId(): string;
  /** Deletes the liveness record now (graceful shutdown). */
  revoke(): Promise<void>;
  /** Stops keepalives and renewals without deleting: the record expires after the TTL, as if the agent died. */
  release(): void;
  /** Called when the lease was lost (e.g. the store was unreachable for longer than the TTL); the store then re-registers. */
  onLost(cb: (err: Error) => void): void;
  /** Called after a lost registration was written again under a new lease. */
  onRenewed(cb: (leaseId: string) => void): void;
}

/** The one interface both drivers offer. */
export interface IntentStore {
  get<K extends Kind>(kind: K, id: string): Promise<Stored<K> | undefined>;
  /** Every object of `kind`, read at one revision. */
  list<K extends Kind>(kind: K): Promise<{ items: Stored<K>[]; revision: number }>;
  /** Every object of the given kinds (default all), read at one revision: the start point for a watch. */
  snapshot(kinds?: readonly Kind[]): Promise<{ items: Stored[]; revision: number }>;
  put<K extends Kind>(kind: K, value: Input<K>, opts?: WriteOptions): Promise<Stored<K>>;
  /**
   * Read-modify-write with compare-and-swap, retried when another writer got there first.
   * `known` (the object as the caller last saw it) skips the first read: when it is still
   * current, the write is one round trip.
   */
  update<K extends Kind>(kind: K, id: string, mutate: (current: KindMap[K]) => KindMap[K], opts?: { known?: Known<K> }): Promise<Stored<K>>;
  /** Resolves false when there was nothing to delete. */
  delete(kind: Kind, id: string, opts?: WriteOptions): Promise<boolean>;
  /** All-or-nothing; every op is validated and guarded as put/delete are. At most 128 key operations. */
  txn(ops: TxnOp[]): Promise<TxnResult>;
  watch(opts: WatchOptions, onEvent: (ev: IntentEvent) => void, onError?: (err: Error) => void): Promise<IntentWatch>;
  /**
   * Allocates a floating IP from the network's pools (or a given address) without races.
   * `known` (objects the caller has seen, e.g. an agent's watched view) lets the first
   * attempt skip its read: the transaction guards each by revision, and a stale one
   * costs a retry that reads.
   */
  allocateFloatingIp(req: AllocateRequest, opts?: { known?: KnownLookup }): Promise<Stored<'floatingip'>>;
  /** Writes `agent/<chassis>` under a lease kept alive in the background. */
  registerChassis(chassis: string, ttlSeconds: number, info?: { pid?: number; version?: string }): Promise<ChassisRegistration>;
  revision(): Promise<number>;
  /** Drops watch history before `revision` (watches from older revisions then fail with EF_STORE_COMPACTED). */
  compact(revision: number): Promise<void>;
  /** Cancels watches, revokes registrations, closes the backend. */
  close(): Promise<void>;
}

export interface IntentStoreOptions {
  random?: () => number;
  newId?: () => string;
  /** Attempts of one write when unguarded concurrent writes keep changing what it read (default 20). */
  maxRetries?: number;
  /** Attempts of one pool allocation under contention (default 200). */
  maxAllocationAttempts?: number;
  /** Delay before re-registering a lost chassis lease (ms, default 1000). */
  reRegisterDelayMs?: number;
  /**
   * Called when a watch of this store delivers a revision that this store wrote, with
   * the time from sending the write (ms): the store's watch lag as one client sees it.
   */
  onWriteSeen?: (ms: number) => void;
}

/** Writes awaiting their watch event, and events awaiting their write's reply, kept at most. */
const LAG_TRACKED = 256;

interface PlannedOp {
  op: TxnOp;
  kind: Kind;
  id: string;
  key: string;
  /** Field-path prefix for errors. */
  prefix: string;
  old: KvEntry | undefined;
  oldValue: IntentObject | undefined;
  newValue: IntentObject | undefined;
}

interface Plan {
  ops: PlannedOp[];
  compares: KvCompare[];
  kvOps: KvOp[];
  /** Index keys that must be free, with the op that claims them. */
  claims: Array<{ key: string; field: string; describe: string; owner: string; prefix: string }>;
}

class Conflict extends Error {}

/** Builds the intent store over a backend; drivers call this. */
export function createIntentStore(kv: KvBackend, options: IntentStoreOptions = {}): IntentStore {
  return new KvIntentStore(kv, options);
}

class KvIntentStore implements IntentStore {
  private readonly random: () => number;
  private readonly newId: () => string;
  private readonly maxRetries: number;
  private readonly maxAllocationAttempts: number;
  private readonly reRegisterDelayMs: number;
  private readonly watches = new Set<IntentWatch>();
  private readonly registrations = new Set<Registration>();
  private closed = false;
  private readonly onWriteSeen: ((ms: number) => void) | undefined;
  /** Revision → when its write was sent (its event not delivered yet). */
  private readonly sentAt = new Map<number, number>();
  /** Revision → when a watch delivered it (before the write's reply came back). */
  private readonly seenAt = new Map<number, number>();

  constructor(private readonly kv: KvBackend, o: IntentStoreOptions) {
    this.random = o.random ?? Math.random;
    this.newId = o.newId ?? randomUUID;
    this.maxRetries = o.maxRetries ?? 20;
    this.maxAllocationAttempts = o.maxAllocationAttempts ?? 200;
    this.reRegisterDelayMs = o.reRegisterDelayMs ?? 1000;
    this.onWriteSeen = o.onWriteSeen;
  }

  /** kv.txn, timed from here to the revision's watch event when someone listens (onWriteSeen). */
  private async send(compares: KvCompare[], ops: KvOp[]): Promise<KvTxnResult> {
    if (!this.onWriteSeen) return this.kv.txn(compares, ops);
    const t0 = performance.now();
    const res = await this.kv.txn(compares, ops);
    if (res.succeeded && ops.length) {
      const seen = this.seenAt.get(res.revision);
      if (seen !== undefined) {
        this.seenAt.delete(res.revision);
        this.onWriteSeen(seen - t0);
      } else bounded(this.sentAt).set(res.revision, t0);
    }
    return res;
  }

  private delivered(revision: number): void {
    const t0 = this.sentAt.get(revision);
    if (t0 === undefined) {
      bounded(this.seenAt).set(revision, performance.now());
      return;
    }
    this.sentAt.delete(revision);
    this.onWriteSeen!(performance.now() - t0);
  }

  private open(): void {
    if (this.closed) throw new StoreError('EF_STORE_CLOSED', 'the intent store is closed');
  }

  async get<K extends Kind>(kind: K, id: string): Promise<Stored<K> | undefined> {
    this.open();
    checkKindId(kind, id);
    const e = await this.kv.get(objectKey(kind, id));
    return e ? toStored<K>(kind, id, e) : undefined;
  }

  async list<K extends Kind>(kind: K): Promise<{ items: Stored<K>[]; revision: number }> {
    this.open();
    checkKindId(kind);
    const { entries, revision } = await this.kv.range(kindPrefix(kind));
    const items = entries.map((e) => toStored<K>(kind, e.key.slice(kindPrefix(kind).length), e));
    return { items, revision };
  }

  async snapshot(kinds?: readonly Kind[]): Promise<{ items: Stored[]; revision: number }> {
    this.open();
    for (const k of kinds ?? []) checkKindId(k);
    const prefix = kinds && kinds.length === 1 ? kindPrefix(kinds[0]!) : ROOT;
    const { entries, revision } = await this.kv.range(prefix);
    const items: Stored[] = [];
    for (const e of entries) {
      const k = parseObjectKey(e.key);
      if (!k || (kinds && !kinds.includes(k.kind))) continue;
      items.push(toStored(k.kind, k.id, e));
    }
    return { items, revision };
  }

  async put<K extends Kind>(kind: K, value: Input<K>, opts: WriteOptions = {}): Promise<Stored<K>> {
    const r = await this.execute([{ op: 'put', kind, value, ...opts }], '');
    return (r.results[0] as unknown as { stored: Stored<K> }).stored;
  }

  async update<K extends Kind>(kind: K, id: string, mutate: (current: KindMap[K]) => KindMap[K], opts: { known?: Known<K> } = {}): Promise<Stored<K>> {
    this.open();
    checkKindId(kind, id);
    const key = objectKey(kind, id);
    let known = opts.known;
    for (let i = 0; i < this.maxRetries; i++) {
      const cur = known ? entryOf(key, known) : await this.kv.get(key);
      known = undefined;
      if (!cur) throw new StoreError('EF_STORE_NOT_FOUND', `${kind} ${id} does not exist`);
      const value = JSON.parse(cur.value) as KindMap[K];
      const next = mutate(structuredClone(value));
      if (idOf(kind, next) !== id) throw validationError([{ field: kind === 'chassis' ? 'name' : 'id', message: `an update cannot change the id (${id})` }]);
      // Nothing changed: no write, no new revision (agents call this for status on every reconcile).
      const normalized = parseObject(kind, next);
      if (normalized.ok && JSON.stringify(normalized.value) === JSON.stringify(value)) return toStored(kind, id, cur);
      // The object as read is the old value: the transaction guards it by revision, and
      // a change of status fields only needs no other read (see plan)
      const plan = await this.plan([{ op: 'put', kind, value: next, expectRevision: cur.modRevision }], '', new Map([[key, cur]]));
      const res = await this.send(plan.compares, plan.kvOps);
      if (res.succeeded) return (results(plan, res.revision)[0] as unknown as { stored: Stored<K> }).stored;
      try {
        await this.diagnose(plan);
      } catch (err) {
        if (!(err instanceof StoreError && err.code === 'EF_STORE_CONFLICT')) throw err;
      }
    }
    throw new StoreError('EF_STORE_CONTENDED', `${kind} ${id} kept changing; gave up after ${this.maxRetries} attempts`);
  }

  async delete(kind: Kind, id: string, opts: WriteOptions = {}): Promise<boolean> {
    const r = await this.execute([{ op: 'delete', kind, id, ...opts }], '');
    return (r.results[0] as { deleted: boolean }).deleted;
  }

  txn(ops: TxnOp[]): Promise<TxnResult> {
    return this.execute(ops, 'ops');
  }

  /** Plans, sends and (when an unguarded read went stale) retries a transaction. */
  private async execute(ops: TxnOp[], pathRoot: string): Promise<TxnResult> {
    this.open();
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const plan = await this.plan(ops, pathRoot);
      if (plan.kvOps.length === 0 && plan.compares.length === 0) {
        return { revision: await this.kv.revision(), results: results(plan, 0) };
      }
      const res = await this.send(plan.compares, plan.kvOps);
      if (res.succeeded) return { revision: res.revision, results: results(plan, res.revision) };
      await this.diagnose(plan); // throws when the caller's expectation or a unique value is at fault
    }
    throw new StoreError('EF_STORE_CONTENDED', `the transaction kept losing to concurrent writes; gave up after ${this.maxRetries} attempts`);
  }

  private async plan(ops: TxnOp[], pathRoot: string, preread?: Map<string, KvEntry | undefined>): Promise<Plan> {
    if (!Array.isArray(ops) || ops.length === 0) throw validationError([{ field: pathRoot || 'ops', message: 'needs at least one operation' }]);
    const errors: FieldError[] = [];
    const planned: PlannedOp[] = [];
    const seen = new Map<string, string>();
    ops.forEach((op, i) => {
      const prefix = pathRoot ? `${pathRoot}[${i}]` : '';
      const at = (f: string): string => (prefix ? (f ? `${prefix}.${f}` : prefix) : f);
      if (!isKind(op.kind)) {
        errors.push({ field: at('kind'), message: `must be one of chassis, network, tenant, port, floatingip, speaker, agent` });
        return;
      }
      let id: string;
      let newValue: IntentObject | undefined;
      if (op.op === 'put') {
        if (op.kind === 'agent') {
          errors.push({ field: at('kind'), message: 'agent records are written by registerChassis (they live on a lease)' });
          return;
        }
        const p = parseObject(op.kind, op.value);
        if (!p.ok) {
          errors.push(...p.errors.map((e) => ({ field: at(e.field), message: e.message })));
          return;
        }
        newValue = p.value;
        id = idOf(op.kind, p.value);
      } else if (op.op === 'delete' || op.op === 'check') {
        if (!isValidId(op.id)) {
          errors.push({ field: at('id'), message: 'must be a valid id' });
          return;
        }
        id = op.id;
        if (op.op === 'check' && (!Number.isInteger(op.expectRevision) || op.expectRevision < 0)) {
          errors.push({ field: at('expectRevision'), message: 'must be a revision (integer ≥ 0)' });
        }
      } else {
        errors.push({ field: at('op'), message: "must be 'put', 'delete' or 'check'" });
        return;
      }
      const exp = (op as { expectRevision?: unknown }).expectRevision;
      if (exp !== undefined && (!Number.isInteger(exp) || (exp as number) < 0)) errors.push({ field: at('expectRevision'), message: 'must be a revision (integer ≥ 0)' });
      const key = objectKey(op.kind, id);
      const dup = seen.get(key);
      if (dup !== undefined) errors.push({ field: at(''), message: `${op.kind} ${id} is already touched by ${dup}` });
      seen.set(key, prefix || 'this transaction');
      planned.push({ op, kind: op.kind, id, key, prefix, old: undefined, oldValue: undefined, newValue });
    });
    if (errors.length) throw validationError(errors);

    // Current state of every touched object, and of the objects the new values name,
    // read at one revision in one round trip.
    const overlay = new Map<string, IntentObject | null>();
    for (const p of planned) if (p.op.op !== 'check') overlay.set(p.key, p.newValue ?? null);
    // A put that changes only status (fields agents write, e.g. activeChassis) of the object
    // it guards by revision does not check its references again: its intent is unchanged,
    // and a status report must not fail on intent (references are checked when they are set).
    // Known without a read when the caller handed the old object in (update).
    const statusOnly = (p: PlannedOp, old: IntentObject | undefined): boolean =>
      p.op.op === 'put' && old !== undefined && p.newValue !== undefined && sameIntent(p.kind, old, p.newValue);
    const skipRefs = new Set(planned.filter((p) => {
      const e = preread?.get(p.key);
      return e !== undefined && statusOnly(p, JSON.parse(e.value) as IntentObject);
    }));
    const refKeys = new Map<string, { kind: Kind; id: string }>();
    for (const p of planned) {
      if (!p.newValue || skipRefs.has(p)) continue;
      for (const r of referencesOf(p.kind, p.newValue)) {
        const k = objectKey(r.kind, r.id);
        if (!overlay.has(k) && isValidId(r.id)) refKeys.set(k, r);
      }
    }
    const keys = [...refKeys.keys()];
    const wanted = [...planned.map((p) => p.key), ...keys];
    const missing = preread ? wanted.filter((k) => !preread.has(k)) : wanted;
    const got = missing.length ? await this.kv.getMany(missing) : [];
    const fetched = new Map(missing.map((k, i) => [k, got[i]]));
    const read = wanted.map((k) => (fetched.has(k) ? fetched.get(k) : preread?.get(k)));
    const olds = read.slice(0, planned.length);
    const refEntries = new Map<string, KvEntry | undefined>();
    keys.forEach((k, i) => refEntries.set(k, read[planned.length + i]));
    planned.forEach((p, i) => {
      p.old = olds[i];
      p.oldValue = p.old ? (JSON.parse(p.old.value) as IntentObject) : undefined;
      const exp = p.op.expectRevision;
      const cur = p.old?.modRevision ?? 0;
      if (exp !== undefined && exp !== cur) throw conflict(p.kind, p.id, exp, cur);
      if (p.op.op === 'delete' && exp !== undefined && exp !== 0 && !p.old) throw conflict(p.kind, p.id, exp, 0);
    });

    const lookup = <K extends Kind>(kind: K, id: string): KindMap[K] | undefined => {
      const k = objectKey(kind, id);
      if (overlay.has(k)) return (overlay.get(k) ?? undefined) as KindMap[K] | undefined;
      const e = refEntries.get(k);
      return e ? (JSON.parse(e.value) as KindMap[K]) : undefined;
    };
    for (const p of planned) {
      if (!p.newValue || skipRefs.has(p) || statusOnly(p, p.oldValue)) continue;
      for (const e of checkReferences(p.kind, p.newValue, lookup)) {
        errors.push({ field: p.prefix ? `${p.prefix}.${e.field}` : e.field, message: e.message });
      }
    }
    if (errors.length) throw validationError(errors);

    // Compares and operations.
    const compares: KvCompare[] = [];
    const kvOps: KvOp[] = [];
    for (const p of planned) {
      compares.push({ key: p.key, target: 'mod', op: '==', value: p.old?.modRevision ?? 0 });
      if (p.op.op === 'put') kvOps.push({ type: 'put', key: p.key, value: JSON.stringify(p.newValue) });
      else if (p.op.op === 'delete' && p.old) kvOps.push({ type: 'delete', key: p.key });
    }
    for (const [k, e] of refEntries) if (e) compares.push({ key: k, target: 'mod', op: '==', value: e.modRevision });

    // Unique-value index keys: free the old values, claim the new ones.
    const freed = new Map<string, string>(); // index key → holder "<kind>/<id>"
    const claims: Plan['claims'] = [];
    for (const p of planned) {
      if (p.op.op === 'check') continue;
      const oldKeys = p.oldValue ? uniqueKeys(p.kind, p.oldValue).map((u) => u.key) : [];
      const newKeys = p.newValue ? uniqueKeys(p.kind, p.newValue) : [];
      for (const k of oldKeys) if (!newKeys.some((n) => n.key === k)) freed.set(k, `${p.kind}/${p.id}`);
      for (const u of newKeys) if (!oldKeys.includes(u.key)) claims.push({ ...u, owner: `${p.kind}/${p.id}`, prefix: p.prefix });
    }
    const claimed = new Map<string, string>();
    for (const c of claims) {
      const other = claimed.get(c.key);
      if (other) errors.push({ field: c.prefix ? `${c.prefix}.${c.field}` : c.field, message: `${c.describe} is also claimed by ${other} in this transaction` });
      claimed.set(c.key, c.owner);
    }
    if (errors.length) throw validationError(errors);
    for (const [k] of freed) if (!claimed.has(k)) kvOps.push({ type: 'delete', key: indexKey(k) });
    for (const c of claims) {
      const holder = freed.get(c.key);
      // A value freed by another op of this transaction is taken over from that holder.
      compares.push(holder ? { key: indexKey(c.key), target: 'value', op: '==', value: holder } : { key: indexKey(c.key), target: 'mod', op: '==', value: 0 });
      kvOps.push({ type: 'put', key: indexKey(c.key), value: c.owner });
    }
    if (compares.length > MAX_TXN_OPS || kvOps.length > MAX_TXN_OPS) {
      throw new StoreError('EF_STORE_TXN_TOO_LARGE', `the transaction needs ${kvOps.length} key operations and ${compares.length} compares; etcd allows ${MAX_TXN_OPS} of each`);
    }
    return { ops: planned, compares, kvOps, claims };
  }

  /** After a failed transaction: throw the caller's error if it is theirs, else return to retry. */
  private async diagnose(plan: Plan): Promise<void> {
    const read = await this.kv.getMany([...plan.ops.map((p) => p.key), ...plan.claims.map((c) => indexKey(c.key))]);
    plan.ops.forEach((p, i) => {
      const exp = p.op.expectRevision;
      const now = read[i]?.modRevision ?? 0;
      if (exp !== undefined && exp !== now) throw conflict(p.kind, p.id, exp, now);
    });
    const held = read.slice(plan.ops.length);
    const fields: FieldError[] = [];
    plan.claims.forEach((c, i) => {
      const h = held[i];
      if (h && h.value !== c.owner && !plan.ops.some((p) => `${p.kind}/${p.id}` === h.value)) {
        fields.push({ field: c.prefix ? `${c.prefix}.${c.field}` : c.field, message: `${c.describe} is already used by ${h.value}` });
      }
    });
    if (fields.length) {
      throw new StoreError('EF_STORE_UNIQUE', fields.map((f) => `${f.field}: ${f.message}`).join('; '), { fields });
    }
  }

  async watch(opts: WatchOptions, onEvent: (ev: IntentEvent) => void, onError?: (err: Error) => void): Promise<IntentWatch> {
    this.open();
    const kinds = opts.kinds;
    for (const k of kinds ?? []) checkKindId(k);
    if (!Number.isInteger(opts.fromRevision) || opts.fromRevision < 0) throw validationError([{ field: 'fromRevision', message: 'must be a revision (integer ≥ 0)' }]);
    const prefix = kinds && kinds.length === 1 ? kindPrefix(kinds[0]!) : ROOT;
    let last = Math.max(0, opts.fromRevision - 1);
    const onEvents = (events: KvEvent[]): void => {
      for (const e of events) {
        if (e.key.startsWith(INDEX_ROOT)) continue;
        const k = parseObjectKey(e.key);
        if (!k || (kinds && !kinds.includes(k.kind))) continue;
        const ev: IntentEvent = {
          type: e.type,
          kind: k.kind,
          id: k.id,
          value: e.value === null ? null : (JSON.parse(e.value) as IntentObject),
          prev: e.prevValue === null ? null : (JSON.parse(e.prevValue) as IntentObject),
          revision: e.revision,
          createRevision: e.createRevision,
        };
        onEvent(ev);
      }
      const lastEv = events[events.length - 1];
      if (lastEv) last = lastEv.revision;
      if (this.onWriteSeen) for (let i = 0; i < events.length; i++) if (i === 0 || events[i]!.revision !== events[i - 1]!.revision) this.delivered(events[i]!.revision);
    };
    let w: IntentWatch | undefined;
    let failed = false;
    const handle = await this.kv.watch(prefix, opts.fromRevision, onEvents, (err) => {
      failed = true;
      if (w) this.watches.delete(w);
      if (onError) onError(err);
    });
    w = {
      lastRevision: () => last,
      cancel: async () => {
        if (w) this.watches.delete(w);
        await handle.cancel();
      },
    };
    if (!failed) this.watches.add(w);
    return w;
  }

  async allocateFloatingIp(req: AllocateRequest, opts: { known?: KnownLookup } = {}): Promise<Stored<'floatingip'>> {
    this.open();
    const id = req.id ?? this.newId();
    const base: Record<string, unknown> = {
      id,
      network: req.network,
      tenant: req.tenant,
      portId: req.portId ?? null,
      ...(req.standbyPortId !== undefined ? { standbyPortId: req.standbyPortId } : {}),
      ...(req.description !== undefined ? { description: req.description } : {}),
    };
    if (req.address !== undefined) return this.put('floatingip', { ...base, address: req.address }, { expectRevision: 0 });
    for (const f of ['network', 'tenant', 'id', 'portId', 'standbyPortId'] as const) {
      const v = f === 'id' ? id : req[f];
      if (v !== undefined && v !== null && !isValidId(v)) throw validationError([{ field: f, message: 'must be a valid id' }]);
    }
    // Per attempt: one read (network and everything the write will check) and one guarded write
    // that claims the address only if nobody holds it. The first RANDOM_PROBES attempts probe
    // random pool addresses without reading what is in use: O(1) in a sparse pool, and with a
    // fraction f of the pool in use all of them fail with probability f^RANDOM_PROBES (10,000
    // FIPs in a /16: 1 in 90,000; with two probes it was 1 in 43, and the read of 10,000 used
    // addresses that followed was the API's p99). After that each attempt also reads the used
    // addresses and picks a free one, which is also how an exhausted pool is recognised.
    // The port's FIP slot is checked up front.
    const keys = [objectKey('floatingip', id), objectKey('network', req.network), objectKey('tenant', req.tenant)];
    if (req.portId) keys.push(objectKey('port', req.portId), indexKey(`fipport/${req.portId}`));
    if (req.standbyPortId) keys.push(objectKey('port', req.standbyPortId));
    const usedPrefix = indexKey(`fipaddr/${req.network}/`);
    const probed = new Set<string>();
    // From what the caller has seen, when it has seen everything the write depends on: the
    // new FIP's key and its port's FIP slot are expected free (the transaction checks both)
    const refs: Array<[Kind, string | null | undefined]> = [['network', req.network], ['tenant', req.tenant], ['port', req.portId], ['port', req.standbyPortId]];
    const seen = opts.known && refs.every(([k, i]) => !i || opts.known!(k, i)) ? opts.known : undefined;
    for (let attempt = 0; attempt < this.maxAllocationAttempts; attempt++) {
      this.open();
      const full = attempt >= RANDOM_PROBES;
      const r = attempt === 0 && seen
        ? { values: keys.map((k) => { const o = parseObjectKey(k); const s = o && seen(o.kind, o.id); return s ? entryOf(k, s) : undefined; }), ranges: [] }
        : await this.kv.read(keys, full ? [usedPrefix] : []);
      const netEntry = r.values[1];
      if (!netEntry) throw validationError([{ field: 'network', message: `network ${req.network} does not exist` }]);
      const net = toStored('network', req.network, netEntry);
      if (req.portId && r.values[4] && r.values[4].value !== `floatingip/${id}`) {
        const field = { field: 'portId', message: `a floating IP for port ${req.portId} is already used by ${r.values[4].value}` };
        throw new StoreError('EF_STORE_UNIQUE', `portId: ${field.message}`, { fields: [field] });
      }
      const used = full ? new Set(r.ranges[0]!.map((e) => e.key.slice(usedPrefix.length))) : probed;
      const address = pickFreeAddress(net.value, used, this.random);
      if (!address && !full) continue; // every address probed already: read what is in use
      if (!address) {
        throw new StoreError('EF_STORE_POOL_EXHAUSTED', `network ${req.network} has no free address left: all ${poolSize(net.value)} addresses of its pools are allocated`, {
          fields: [{ field: 'network', message: 'allocation pools exhausted' }],
        });
      }
      probed.add(address);
      const preread = new Map(keys.map((k, i) => [k, r.values[i]]));
      const plan = await this.plan([{ op: 'put', kind: 'floatingip', value: { ...base, address }, expectRevision: 0 }], '', preread);
      const res = await this.send(plan.compares, plan.kvOps);
      if (res.succeeded) return (results(plan, res.revision)[0] as unknown as { stored: Stored<'floatingip'> }).stored;
      // Another allocator took this address (or something checked changed) since our read: back off a little, read again.
      if (attempt > RANDOM_PROBES) await new Promise((r) => setTimeout(r, Math.floor(this.random() * Math.min(50, attempt * 2))));
    }
    throw new StoreError('EF_STORE_CONTENDED', `allocation on network ${req.network} lost the race ${this.maxAllocationAttempts} times in a row`);
  }

  async registerChassis(chassis: string, ttlSeconds: number, info: { pid?: number; version?: string } = {}): Promise<ChassisRegistration> {
    this.open();
    if (!isValidId(chassis)) throw validationError([{ field: 'chassis', message: 'must be a valid chassis name' }]);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw validationError([{ field: 'ttlSeconds', message: 'must be an integer ≥ 1' }]);
    const record = parseObject('agent', { chassis, startedAt: new Date().toISOString(), ...info });
    if (!record.ok) throw validationError(record.errors);
    const reg = new Registration(this.kv, chassis, ttlSeconds, JSON.stringify(record.value), this.reRegisterDelayMs, () => this.registrations.delete(reg));
    await reg.start();
    this.registrations.add(reg);
    return reg;
  }

  revision(): Promise<number> {
    this.open();
    return this.kv.revision();
  }

  compact(revision: number): Promise<void> {
    this.open();
    return this.kv.compact(revision);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.watches].map((w) => w.cancel()));
    // Revoke so the record goes at once; if the backend is unreachable, the lease expires on its own.
    await Promise.allSettled([...this.registrations].map((r) => withTimeout(r.revoke(), 2000)));
    await this.kv.close();
  }
}

/** A liveness record on a lease; re-written under a new lease when the lease is lost. */
class Registration implements ChassisRegistration {
  private lease: KvLease | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly lostCbs: Array<(err: Error) => void> = [];
  private readonly renewedCbs: Array<(id: string) => void> = [];

  constructor(
    private readonly kv: KvBackend,
    readonly chassis: string,
    private readonly ttl: number,
    private readonly value: string,
    private readonly retryMs: number,
    private readonly onDone: () => void,
  ) {}

  async start(): Promise<void> {
    const lease = await this.kv.grantLease(this.ttl);
    try {
      await this.kv.txn([], [{ type: 'put', key: objectKey('agent', this.chassis), value: this.value, lease: lease.id }]);
    } catch (err) {
      await lease.revoke().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await lease.revoke().catch(() => undefined);
      return;
    }
    this.lease = lease;
    lease.onLost((err) => {
      if (this.stopped || this.lease !== lease) return;
      for (const cb of this.lostCbs) cb(err);
      this.retry();
    });
  }

  private retry(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start().then(
        () => { if (!this.stopped && this.lease) for (const cb of this.renewedCbs) cb(this.lease.id); },
        () => this.retry(),
      );
    }, this.retryMs);
    this.timer.unref();
  }

  leaseId(): string {
    return this.lease?.id ?? '';
  }

  async revoke(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.onDone();
    if (this.lease) await this.lease.revoke();
  }

  release(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.onDone();
    this.lease?.release();
  }

  onLost(cb: (err: Error) => void): void {
    this.lostCbs.push(cb);
  }

  onRenewed(cb: (id: string) => void): void {
    this.renewedCbs.push(cb);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let t: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<undefined>((r) => (t = setTimeout(() => r(undefined), ms)))]).finally(() => clearTimeout(t));
}

/** The map, its oldest entry dropped when it holds LAG_TRACKED (writes whose event never came). */
function bounded<K, V>(m: Map<K, V>): Map<K, V> {
  if (m.size >= LAG_TRACKED) m.delete(m.keys().next().value as K);
  return m;
}

/** An object the caller has seen, as the entry a read would have returned (version and lease unknown: unused by plan). */
function entryOf(key: string, k: Known): KvEntry {
  return { key, value: JSON.stringify(k.value), createRevision: k.createRevision, modRevision: k.modRevision, version: 0, lease: null };
}

function toStored<K extends Kind>(kind: K, id: string, e: KvEntry): Stored<K> {
  return { kind, id, value: JSON.parse(e.value) as KindMap[K], createRevision: e.createRevision, modRevision: e.modRevision };
}

function results(plan: Plan, revision: number): TxnOpResult[] {
  return plan.ops.map((p): TxnOpResult => {
    if (p.op.op === 'put') {
      return { op: 'put', stored: { kind: p.kind, id: p.id, value: p.newValue!, createRevision: p.old?.createRevision ?? revision, modRevision: revision } };
    }
    if (p.op.op === 'delete') return { op: 'delete', kind: p.kind, id: p.id, deleted: p.old !== undefined };
    return { op: 'check' };
  });
}

function conflict(kind: Kind, id: string, expected: number, current: number): StoreError {
  const what = current === 0 ? 'does not exist' : `is at revision ${current}`;
  const exp = expected === 0 ? 'to be absent' : `revision ${expected}`;
  return new StoreError('EF_STORE_CONFLICT', `${kind} ${id} ${what}, expected ${exp}`, { currentRevision: current });
}

function checkKindId(kind: unknown, id?: unknown): void {
  if (!isKind(kind)) throw validationError([{ field: 'kind', message: `unknown kind ${String(kind)}` }]);
  if (id !== undefined && !isValidId(id)) throw validationError([{ field: 'id', message: `${String(id)} is not a valid id` }]);
}
