// The small key-value contract both drivers implement (a subset of etcd v3's KV,
// Watch and Lease services). The intent store (store.ts) is written once on top of
// it, so validation, indexes, allocation and watch filtering are the same for etcd
// and for the embedded store.

export interface KvEntry {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  /** Lease id holding the key, or null. */
  lease: string | null;
}

/**
 * A compare in a transaction. Like etcd, an absent key compares as if every
 * revision and version were 0 (so `mod == 0` means "does not exist"), and a value
 * compare on an absent key is false.
 */
export type KvCompare =
  | { key: string; target: 'mod' | 'create' | 'version'; op: '==' | '!=' | '<' | '>'; value: number }
  | { key: string; target: 'value'; op: '==' | '!='; value: string };

export type KvOp = { type: 'put'; key: string; value: string; lease?: string } | { type: 'delete'; key: string };

export interface KvTxnResult {
  succeeded: boolean;
  /** Store revision after the transaction (unchanged when it failed or wrote nothing). */
  revision: number;
}

export interface KvEvent {
  type: 'put' | 'delete';
  key: string;
  /** New value for a put; null for a delete. */
  value: string | null;
  /** Value before this event, when known. */
  prevValue: string | null;
  revision: number;
  /** The key's create revision for a put (0 for a delete). */
  createRevision: number;
}

export interface KvWatchHandle {
  cancel(): Promise<void>;
}

export interface KvLease {
  readonly id: string;
  /** Ends the lease now: its keys are deleted. */
  revoke(): Promise<void>;
  /** Stops keepalives without revoking (the keys expire after the TTL, as if the process died). */
  release(): void;
  /** Called once if the lease is lost (keepalive failed past the TTL, or it expired). */
  onLost(cb: (err: Error) => void): void;
}

export interface KvBackend {
  get(key: string): Promise<KvEntry | undefined>;
  /** Several keys read at one revision, in one round trip (at most 128). */
  getMany(keys: string[]): Promise<Array<KvEntry | undefined>>;
  /** Keys and whole prefixes read at one revision, in one round trip (at most 128 in all; small prefixes only). */
  read(keys: string[], prefixes: string[]): Promise<{ values: Array<KvEntry | undefined>; ranges: KvEntry[][]; revision: number }>;
  /** Every key under `prefix`, read at one revision. */
  range(prefix: string): Promise<{ entries: KvEntry[]; revision: number }>;
  /** All compares true → apply `ops` atomically in one revision; else nothing. */
  txn(compares: KvCompare[], ops: KvOp[]): Promise<KvTxnResult>;
  /**
   * Delivers every event under `prefix` with revision ≥ `fromRevision`, each
   * revision's events together and in order, exactly once, across reconnects.
   * `onError` is called once if the watch cannot continue (e.g. the start revision
   * was compacted: a StoreError EF_STORE_COMPACTED); no events follow it.
   */
  watch(prefix: string, fromRevision: number, onEvents: (events: KvEvent[]) => void, onError: (err: Error) => void): Promise<KvWatchHandle>;
  grantLease(ttlSeconds: number): Promise<KvLease>;
  revision(): Promise<number>;
  /** Drops history before `revision` (watches from older revisions fail). */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

/** etcd's default --max-txn-ops; both drivers enforce it. */
export const MAX_TXN_OPS = 128;

export function compareHolds(c: KvCompare, e: KvEntry | undefined): boolean {
  if (c.target === 'value') {
    if (!e) return false;
    return c.op === '==' ? e.value === c.value : e.value !== c.value;
  }
  const actual = !e ? 0 : c.target === 'mod' ? e.modRevision : c.target === 'create' ? e.createRevision : e.version;
  switch (c.op) {
    case '==': return actual === c.value;
    case '!=': return actual !== c.value;
    case '<': return actual < c.value;
    case '>': return actual > c.value;
  }
}
