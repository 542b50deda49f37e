// Public surface of the intent store (issue 5): the intent model, its validation,
// and one IntentStore interface with two drivers — etcd v3 for clusters and an
// embedded, file-backed store for one machine — chosen by config with openStore().
//
// Model (store/model.ts): Chassis, ExternalNetwork, Tenant (+ Vrf: MplsVrf | EvpnVrf),
// Port, FloatingIp, SpeakerSettings, AgentRecord; parseObject(kind, json) validates
// and normalizes untrusted JSON, every error names its field ({field, message}).
//
// IntentStore (store/store.ts), both drivers, same semantics:
//   get(kind, id) → Stored | undefined          list(kind) → {items, revision}
//   snapshot(kinds?) → {items, revision}        revision()
//   put(kind, obj, {expectRevision?})           delete(kind, id, {expectRevision?}) → boolean
//   update(kind, id, mutate, {known?})          read-modify-write with CAS, retried; known: skip the first read
//   txn([{op:'put'|'delete'|'check', …}])       all-or-nothing, ≤128 key operations
//   watch({kinds?, fromRevision}, onEvent, onError?) → {lastRevision(), cancel()}
//   allocateFloatingIp({network, tenant, address?, portId?, …})   race-free, never twice
//   registerChassis(name, ttlSeconds) → ChassisRegistration (lease; record vanishes when the agent dies)
//   compact(revision), close()
// expectRevision is the object's modRevision; 0 means "must not exist yet".
// Errors are StoreError with a code from STORE_ERRORS (store/errors.ts).
// Key layout (etcd and embedded alike): /edgeflow/v1/<kind>/<id>; unique-value
// indexes under /edgeflow/v1/_idx/.
// Watches: events {type, kind, id, value, prev, revision}, each revision's events
// together and in order, exactly once, resumed from the last delivered revision + 1
// after a disconnect; a watch from a compacted revision fails with EF_STORE_COMPACTED.
// Per-chassis view for agents: ChassisFilter / watchChassis (store/chassis-filter.ts)
// turn the global event stream into the events that concern one chassis (its ports,
// FIPs of its ports or standby ports or with activeChassis = it; networks, tenants,
// speaker settings, agent records), so a FIP move is make-before-break.
// Not checked on delete: objects that still name the deleted one (the API decides).
import { openEmbeddedStore, type EmbeddedOptions } from './embedded.js';
import { openEtcdStore, type EtcdOptions } from './etcd.js';
import type { IntentStore, IntentStoreOptions } from './store.js';

export * from './model.js';
export * from './errors.js';
export type {
  AllocateRequest,
  ChassisRegistration,
  Input,
  IntentEvent,
  IntentStore,
  IntentStoreOptions,
  IntentWatch,
  Known,
  KnownLookup,
  Stored,
  TxnOp,
  TxnOpResult,
  TxnResult,
  WatchOptions,
  WriteOptions,
} from './store.js';
export { createIntentStore } from './store.js';
export { ChassisFilter, watchChassis, type ChassisEvent } from './chassis-filter.js';
export { openEmbeddedStore, EmbeddedKv, type EmbeddedOptions, type EmbeddedClock } from './embedded.js';
export { openEtcdStore, EtcdKv, type EtcdOptions } from './etcd.js';
export { parseIp, parseCidr, cidrContains } from './address.js';
export { poolSize, inPool, pickFreeAddress } from './pool.js';
export { ROOT as KEY_ROOT, objectKey, kindPrefix } from './keys.js';

export type StoreConfig =
  | ({ driver: 'etcd' } & EtcdOptions & IntentStoreOptions)
  | ({ driver: 'embedded' } & EmbeddedOptions & IntentStoreOptions);

/** Opens the store the config names: `{driver: 'etcd', endpoints}` or `{driver: 'embedded', dir}`. */
export async function openStore(config: StoreConfig): Promise<IntentStore> {
  switch (config.driver) {
    case 'etcd':
      return openEtcdStore(config);
    case 'embedded':
      return openEmbeddedStore(config);
  }
}
