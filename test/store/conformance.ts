// One test body for both intent-store drivers: CRUD and compare-and-swap,
// validation errors that name the field, all-or-nothing transactions, unique
// values, race-free floating-IP allocation from several clients, ordered watches
// (live, from the past, compacted), lease expiry of agent records, and the
// per-chassis view. Each driver's test file calls storeConformance() with a factory.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StoreError, watchChassis, type ChassisEvent, type IntentEvent, type IntentStore } from '../../store/index.js';

export interface DriverUnderTest {
  /** Shown in test names, e.g. "embedded" or "etcd (daemon)". */
  name: string;
  skip: false | string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** The store under test. */
  store(): IntentStore;
  /** n clients of the same store (separate connections where the driver has them). */
  clients(n: number): Promise<IntentStore[]>;
  /** Lease TTL to use in seconds. */
  ttl: number;
}

let seq = 0;
/** Ids unique within the run, so tests can share one etcd. */
export function uid(p: string): string {
  return `${p}-${process.pid}-${++seq}`;
}

async function rejects(p: Promise<unknown>, code: string, check?: (e: StoreError) => void): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof StoreError, `expected StoreError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    check?.(err);
    return;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

export async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Tenant t with subnet 10.0.0.0/24, network n 198.51.100.0/24 with the given pool, optional ports. */
async function fixture(s: IntentStore, poolEnd = '198.51.100.200'): Promise<{ t: string; n: string }> {
  const t = uid('t');
  const n = uid('ext');
  await s.put('tenant', { id: t, subnets: ['10.0.0.0/24'] });
  await s.put('network', { id: n, cidr: '198.51.100.0/24', pools: [{ start: '198.51.100.10', end: poolEnd }] });
  return { t, n };
}

export function storeConformance(d: DriverUnderTest): void {
  describe(`intent store conformance: ${d.name}`, { skip: d.skip }, () => {
    before(() => d.setup());
    after(() => d.teardown());

    test('CRUD with compare-and-swap revisions', async () => {
      const s = d.store();
      const id = uid('t');
      const a = await s.put('tenant', { id, subnets: ['10.0.0.0/24'] }, { expectRevision: 0 });
      assert.equal(a.createRevision, a.modRevision);
      assert.deepEqual((await s.get('tenant', id))?.value, { id, subnets: ['10.0.0.0/24'] });
      await rejects(s.put('tenant', { id, subnets: ['10.0.0.0/24'] }, { expectRevision: 0 }), 'EF_STORE_CONFLICT');
      const b = await s.put('tenant', { id, subnets: ['10.0.0.0/24', '10.0.1.0/24'] }, { expectRevision: a.modRevision });
      assert.ok(b.modRevision > a.modRevision);
      assert.equal(b.createRevision, a.createRevision);
      await rejects(s.put('tenant', { id, subnets: ['10.9.0.0/24'] }, { expectRevision: a.modRevision }), 'EF_STORE_CONFLICT', (e) => assert.equal(e.currentRevision, b.modRevision));
      const list = await s.list('tenant');
      assert.ok(list.items.some((x) => x.id === id && x.modRevision === b.modRevision));
      assert.ok(list.revision >= b.modRevision);
      const u = await s.update('tenant', id, (t) => ({ ...t, name: 'renamed' }));
      assert.equal(u.value.name, 'renamed');
      // An update that changes nothing writes nothing.
      assert.equal((await s.update('tenant', id, (t) => ({ ...t }))).modRevision, u.modRevision);
      await rejects(s.delete('tenant', id, { expectRevision: b.modRevision }), 'EF_STORE_CONFLICT');
      assert.equal(await s.delete('tenant', id, { expectRevision: u.modRevision }), true);
      assert.equal(await s.get('tenant', id), undefined);
      assert.equal(await s.delete('tenant', id), false);
    });

    test('validation and reference errors name the field; nothing is written', async () => {
      const s = d.store();
      const { t } = await fixture(s);
      const before = await s.revision();
      const pid = uid('p');
      await rejects(s.put('port', { id: pid, tenant: t, fixedIp: '10.1.0.5', chassis: 'c1' }), 'EF_STORE_VALIDATION', (e) => {
        assert.deepEqual(e.fields, [{ field: 'fixedIp', message: `10.1.0.5 is outside subnet 10.0.0.0/24 of tenant ${t}` }]);
      });
      await rejects(s.put('port', { id: pid, tenant: 'nope', fixedIp: '10.0.0.5', chassis: null }), 'EF_STORE_VALIDATION', (e) => {
        assert.deepEqual(e.fields.map((f) => f.field), ['tenant']);
      });
      await rejects(s.put('chassis', { name: 'c1', uplinkIp: '192.0.2.300', localAsn: 23456, bgpNeighbors: [{ address: '192.0.2.1', asn: 0 }] }), 'EF_STORE_VALIDATION', (e) => {
        assert.deepEqual(e.fields.map((f) => f.field).sort(), ['bgpNeighbors[0].asn', 'localAsn', 'uplinkIp']);
      });
      await rejects(s.put('agent', { chassis: 'c1', startedAt: new Date().toISOString() }), 'EF_STORE_VALIDATION');
      assert.equal(await s.revision(), before);
    });

    test('unique values: FIP address, one FIP per port, port fixed IP per tenant', async () => {
      const s = d.store();
      const { t, n } = await fixture(s);
      const p = uid('p');
      await s.put('port', { id: p, tenant: t, fixedIp: '10.0.0.5', chassis: 'c1' });
      await rejects(s.put('port', { id: uid('p'), tenant: t, fixedIp: '10.0.0.5', chassis: 'c2' }), 'EF_STORE_UNIQUE', (e) => assert.equal(e.fields[0]?.field, 'fixedIp'));
      const f1 = await s.allocateFloatingIp({ network: n, tenant: t, address: '198.51.100.7', portId: p });
      assert.equal(f1.value.address, '198.51.100.7');
      await rejects(s.allocateFloatingIp({ network: n, tenant: t, address: '198.51.100.7' }), 'EF_STORE_UNIQUE', (e) => assert.equal(e.fields[0]?.field, 'address'));
      await rejects(s.allocateFloatingIp({ network: n, tenant: t, portId: p }), 'EF_STORE_UNIQUE', (e) => assert.equal(e.fields[0]?.field, 'portId'));
      // Re-addressing frees the old value; deleting frees the rest.
      await s.put('floatingip', { ...f1.value, address: '198.51.100.8' });
      const f2 = await s.allocateFloatingIp({ network: n, tenant: t, address: '198.51.100.7' });
      await s.delete('floatingip', f1.id);
      await s.put('floatingip', { ...f2.value, portId: p });
    });

    test('txn is all-or-nothing and sees its own objects', async () => {
      const s = d.store();
      const t = uid('t');
      const before = await s.revision();
      await rejects(
        s.txn([
          { op: 'put', kind: 'tenant', value: { id: t, subnets: ['10.0.0.0/24'] } },
          { op: 'put', kind: 'port', value: { id: uid('p'), tenant: t, fixedIp: '10.0.0.9', chassis: null } },
          { op: 'put', kind: 'port', value: { id: uid('p'), tenant: t, fixedIp: '10.0.7.9', chassis: null } },
        ]),
        'EF_STORE_VALIDATION',
        (e) => assert.deepEqual(e.fields.map((f) => f.field), ['ops[2].fixedIp']),
      );
      await rejects(
        s.txn([
          { op: 'put', kind: 'tenant', value: { id: t, subnets: ['10.0.0.0/24'] } },
          { op: 'check', kind: 'tenant', id: uid('missing'), expectRevision: 5 },
        ]),
        'EF_STORE_CONFLICT',
      );
      assert.equal(await s.revision(), before);
      assert.equal(await s.get('tenant', t), undefined);
      const p = uid('p');
      const r = await s.txn([
        { op: 'put', kind: 'tenant', value: { id: t, subnets: ['10.0.0.0/24'] } },
        { op: 'put', kind: 'port', value: { id: p, tenant: t, fixedIp: '10.0.0.9', chassis: null } },
      ]);
      assert.equal((await s.get('tenant', t))?.modRevision, r.revision);
      assert.equal((await s.get('port', p))?.modRevision, r.revision);
      // A transaction that would need more than 128 key operations is refused whole.
      const many = Array.from({ length: 130 }, (_, i) => ({ op: 'put' as const, kind: 'tenant' as const, value: { id: uid(`big${i}`), subnets: ['10.0.0.0/24'] } }));
      await rejects(s.txn(many), 'EF_STORE_TXN_TOO_LARGE');
    });

    test('200 concurrent FIP allocations from 4 clients never collide and exhaust the pool cleanly', async () => {
      const clients = await d.clients(4);
      const { t, n } = await fixture(clients[0]!, '198.51.100.159'); // 150 addresses
      const outcomes = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) => clients[i % 4]!.allocateFloatingIp({ network: n, tenant: t })),
      );
      const ok = outcomes.filter((o) => o.status === 'fulfilled').map((o) => (o as PromiseFulfilledResult<{ value: { address: string } }>).value.value.address);
      const failed = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason as StoreError);
      assert.equal(new Set(ok).size, ok.length, 'an address was handed out twice');
      assert.equal(ok.length, 150);
      assert.equal(failed.length, 50);
      for (const e of failed) {
        assert.equal(e.code, 'EF_STORE_POOL_EXHAUSTED', e.message);
        assert.match(e.message, /no free address left: all 150 addresses/);
      }
      const stored = (await clients[0]!.list('floatingip')).items.filter((f) => f.value.network === n);
      assert.deepEqual(stored.map((f) => f.value.address).sort(), [...ok].sort());
    });

    test('watch delivers every event once, in revision order, from now and from the past', async () => {
      const s = d.store();
      const start = (await s.revision()) + 1;
      const live: IntentEvent[] = [];
      const w = await s.watch({ fromRevision: start }, (ev) => live.push(ev));
      const t = uid('t');
      const ids: string[] = [];
      await s.put('tenant', { id: t, subnets: ['10.0.0.0/24'] });
      for (let i = 0; i < 20; i++) {
        const p = uid('p');
        ids.push(p);
        await s.put('port', { id: p, tenant: t, fixedIp: `10.0.0.${i + 10}`, chassis: 'c1' });
      }
      await s.txn(ids.slice(0, 5).map((id) => ({ op: 'delete' as const, kind: 'port' as const, id })));
      await s.put('port', { id: ids[5]!, tenant: t, fixedIp: '10.0.0.200', chassis: 'c2' });
      const end = await s.revision();
      await until('all live events', () => live.length >= 27 && live[live.length - 1]!.revision >= end);
      const ours = (evs: IntentEvent[]): string[] => evs.filter((e) => e.id === t || ids.includes(e.id)).map((e) => `${e.type} ${e.kind} ${e.id}`);
      const expected = [`put tenant ${t}`, ...ids.map((id) => `put port ${id}`), ...ids.slice(0, 5).map((id) => `delete port ${id}`), `put port ${ids[5]}`];
      assert.deepEqual(ours(live), expected);
      for (let i = 1; i < live.length; i++) assert.ok(live[i]!.revision >= live[i - 1]!.revision);
      // The 5 deletes share one revision (one transaction) and carry the deleted object.
      const dels = live.filter((e) => e.type === 'delete');
      assert.equal(new Set(dels.map((e) => e.revision)).size, 1);
      assert.equal((dels[0]!.prev as { id: string }).id, ids[0]);
      const moved = live[live.length - 1]!;
      assert.equal((moved.prev as { chassis: string }).chassis, 'c1');
      assert.equal(w.lastRevision(), end);
      await w.cancel();

      // From the past, filtered by kind: the same port events again.
      const replay: IntentEvent[] = [];
      const w2 = await s.watch({ fromRevision: start, kinds: ['port'] }, (ev) => replay.push(ev));
      await until('replayed events', () => replay.filter((e) => ids.includes(e.id)).length >= 26);
      assert.deepEqual(ours(replay), expected.slice(1));
      await w2.cancel();
    });

    test('a watch from a compacted revision fails with EF_STORE_COMPACTED', async () => {
      const s = d.store();
      const t = uid('t');
      const r1 = (await s.put('tenant', { id: t, subnets: ['10.0.0.0/24'] })).modRevision;
      const r2 = (await s.put('tenant', { id: t, subnets: ['10.0.1.0/24'] })).modRevision;
      await s.compact(r2);
      const err = await new Promise<Error>((resolve) => {
        void s.watch({ fromRevision: r1 }, () => resolve(new Error('got an event from a compacted revision')), resolve);
      });
      assert.ok(err instanceof StoreError);
      assert.equal(err.code, 'EF_STORE_COMPACTED', err.message);
    });

    test('chassis registration: lease expiry removes the agent record and watchers see it', async () => {
      const s = d.store();
      const c = uid('c');
      const events: IntentEvent[] = [];
      const w = await s.watch({ fromRevision: (await s.revision()) + 1, kinds: ['agent'] }, (ev) => events.push(ev));
      const reg = await s.registerChassis(c, d.ttl, { version: 'test' });
      assert.equal((await s.get('agent', c))?.value.chassis, c);
      // Alive well past the TTL while keepalives run.
      await new Promise((r) => setTimeout(r, d.ttl * 1000 + 500));
      assert.ok(await s.get('agent', c), 'record vanished while the lease was kept alive');
      const lost = new Promise<void>((r) => reg.onLost(() => r()));
      void lost;
      reg.release(); // the agent "dies": no more keepalives
      const t0 = Date.now();
      await until('agent record to expire', async () => (await s.get('agent', c)) === undefined, d.ttl * 1000 + 5000);
      await until('delete event', () => events.some((e) => e.type === 'delete' && e.id === c));
      assert.ok(Date.now() - t0 >= 0);
      assert.deepEqual(events.filter((e) => e.id === c).map((e) => e.type), ['put', 'delete']);
      // A graceful revoke removes the record at once.
      const c2 = uid('c');
      const reg2 = await s.registerChassis(c2, d.ttl);
      await reg2.revoke();
      assert.equal(await s.get('agent', c2), undefined);
      await w.cancel();
    });

    test('per-chassis view: a port move takes its floating IP from one chassis to the other', async () => {
      const s = d.store();
      const { t, n } = await fixture(s);
      const c1 = uid('c');
      const c2 = uid('c');
      const p = uid('p');
      const other = uid('p');
      await s.put('port', { id: p, tenant: t, fixedIp: '10.0.0.5', chassis: c1 });
      await s.put('port', { id: other, tenant: t, fixedIp: '10.0.0.6', chassis: uid('c') });
      const fip = await s.allocateFloatingIp({ network: n, tenant: t, portId: p });
      const seen1: ChassisEvent[] = [];
      const seen2: ChassisEvent[] = [];
      const v1 = await watchChassis(s, c1, (evs) => seen1.push(...evs));
      const v2 = await watchChassis(s, c2, (evs) => seen2.push(...evs));
      assert.ok(v1.initial.some((o) => o.kind === 'floatingip' && o.id === fip.id));
      assert.ok(v1.initial.some((o) => o.kind === 'port' && o.id === p));
      assert.ok(!v1.initial.some((o) => o.id === other));
      assert.ok(!v2.initial.some((o) => o.id === fip.id || o.id === p));
      await s.update('port', p, (x) => ({ ...x, chassis: c2 }));
      await until('move seen by both chassis', () => seen1.length >= 2 && seen2.length >= 2);
      assert.deepEqual(seen1.map((e) => `${e.type} ${e.kind}`), ['delete floatingip', 'delete port']);
      assert.deepEqual(seen2.map((e) => `${e.type} ${e.kind}`), ['put port', 'put floatingip']);
      await v1.watch.cancel();
      await v2.watch.cancel();
    });
  });
}
