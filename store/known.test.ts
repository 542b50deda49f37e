// Writes from objects the caller has already seen (the agent's watched view): update()
// (activeChassis claims) and allocateFloatingIp() (POST /floatingips) take one round trip
// while what they know is current and read again when it is stale; a change of status
// fields alone does not check references again. Embedded backend, round trips counted
// by a wrapper.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EmbeddedKv } from './embedded.js';
import { StoreError } from './errors.js';
import type { KvBackend } from './kv.js';
import type { FloatingIp } from './model.js';
import { createIntentStore, type IntentStore, type Known, type KnownLookup, type Stored } from './store.js';
import type { Kind } from './model.js';

const dir = mkdtempSync(join(tmpdir(), 'ef-update-'));
let kv: EmbeddedKv;
let store: IntentStore;
const calls: string[] = [];

before(async () => {
  kv = await EmbeddedKv.open({ dir, fsync: false });
  const counted = new Proxy(kv, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (['get', 'getMany', 'read', 'range', 'txn'].includes(String(prop))) calls.push(String(prop));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as KvBackend;
  store = createIntentStore(counted);
  await store.put('tenant', { id: 't', subnets: ['10.0.0.0/24'] });
  await store.put('network', { id: 'ext', cidr: '198.51.100.0/24', pools: [{ start: '198.51.100.10', end: '198.51.100.20' }] });
  await store.put('port', { id: 'p1', tenant: 't', fixedIp: '10.0.0.5', chassis: 'c1' });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const claim = (who: string) => (f: FloatingIp): FloatingIp => ({ ...f, activeChassis: who });

test('a current known object is written in one round trip; a stale one is read again', async () => {
  const f = await store.put('floatingip', { id: 'f1', address: '198.51.100.11', network: 'ext', tenant: 't', portId: 'p1' });
  calls.length = 0;
  const a = await store.update('floatingip', 'f1', claim('c1'), { known: f });
  assert.deepEqual(calls, ['txn']);
  assert.equal(a.value.activeChassis, 'c1');
  assert.equal(a.createRevision, f.createRevision);
  assert.ok(a.modRevision > f.modRevision);
  assert.deepEqual((await store.get('floatingip', 'f1'))?.value, a.value);

  // someone else changed it since `f`: the mutation applies to what is there now
  await store.update('floatingip', 'f1', (x) => ({ ...x, description: 'meanwhile' }));
  calls.length = 0;
  const b = await store.update('floatingip', 'f1', claim('c2'), { known: f });
  assert.equal(calls[0], 'txn');
  assert.ok(calls.includes('get'), calls.join());
  assert.equal(b.value.activeChassis, 'c2');
  assert.equal(b.value.description, 'meanwhile');

  // gone since: not found, nothing written
  await store.delete('floatingip', 'f1');
  await assert.rejects(store.update('floatingip', 'f1', claim('c1'), { known: b }), (e: unknown) => e instanceof StoreError && e.code === 'EF_STORE_NOT_FOUND');
  assert.equal(await store.get('floatingip', 'f1'), undefined);
});

test('a status-only change does not check references again; an intent change does', async () => {
  await store.put('network', { id: 'gone', cidr: '203.0.113.0/24', pools: [{ start: '203.0.113.10', end: '203.0.113.20' }] });
  const f = await store.put('floatingip', { id: 'f2', address: '203.0.113.11', network: 'gone', tenant: 't', portId: 'p1' });
  await store.delete('network', 'gone'); // deletes are not checked for references (store/index.ts)
  const s = await store.update('floatingip', 'f2', claim('c1'));
  assert.equal(s.value.activeChassis, 'c1');
  calls.length = 0;
  await store.update('floatingip', 'f2', claim('c2'), { known: s });
  assert.deepEqual(calls, ['txn']);
  await assert.rejects(store.update('floatingip', 'f2', (x) => ({ ...x, description: 'intent' })), (e: unknown) =>
    e instanceof StoreError && e.code === 'EF_STORE_VALIDATION' && e.fields.some((x) => x.field === 'network'));
  // a put of the same intent is a status write too, however it comes
  const cur = (await store.get('floatingip', 'f2'))!;
  const p = await store.put('floatingip', { ...cur.value, activeChassis: null }, { expectRevision: cur.modRevision });
  assert.equal(p.value.activeChassis, null);
});

test('allocation from seen network, tenant and port: one round trip; stale or taken: read again, right answer', async () => {
  await store.put('port', { id: 'p2', tenant: 't', fixedIp: '10.0.0.6', chassis: 'c1' });
  const seen = new Map<string, Stored>();
  for (const [k, id] of [['network', 'ext'], ['tenant', 't'], ['port', 'p2']] as const) seen.set(`${k}/${id}`, (await store.get(k, id))!);
  const known: KnownLookup = <K extends Kind>(k: K, id: string) => seen.get(`${k}/${id}`) as Known<K> | undefined;
  calls.length = 0;
  const a = await store.allocateFloatingIp({ network: 'ext', tenant: 't', portId: 'p2' }, { known });
  assert.deepEqual(calls, ['txn']);
  assert.equal((await store.get('floatingip', a.id))?.value.address, a.value.address);

  // the port's FIP slot is taken now: the guarded write fails, the read that follows names the field
  calls.length = 0;
  await assert.rejects(store.allocateFloatingIp({ network: 'ext', tenant: 't', portId: 'p2' }, { known }), (e: unknown) =>
    e instanceof StoreError && e.code === 'EF_STORE_UNIQUE' && e.fields.some((x) => x.field === 'portId'));
  assert.deepEqual(calls.slice(0, 2), ['txn', 'read']);

  // the network changed since it was seen (a smaller pool): the retry reads it and allocates inside the new pool
  await store.delete('floatingip', a.id);
  const net = (await store.get('network', 'ext'))!;
  await store.put('network', { ...net.value, pools: [{ start: '198.51.100.19', end: '198.51.100.19' }] }, { expectRevision: net.modRevision });
  calls.length = 0;
  const b = await store.allocateFloatingIp({ network: 'ext', tenant: 't', portId: 'p2' }, { known });
  assert.equal(calls[0], 'txn');
  assert.ok(calls.includes('read'), calls.join());
  assert.equal(b.value.address, '198.51.100.19');

  // not everything seen: the ordinary path (read, then write)
  await store.delete('floatingip', b.id);
  calls.length = 0;
  await store.allocateFloatingIp({ network: 'ext', tenant: 't', portId: 'p2' }, { known: (k, id) => (k === 'port' ? undefined : known(k, id)) });
  assert.deepEqual(calls, ['read', 'txn']);
});
