// The etcd driver against a real etcd 3.4 on loopback (daemon): the shared
// conformance suite, and watches that resume without loss or duplicates after etcd
// is killed and restarted under them, a lost chassis lease written again after an outage, and paged listing.
// Ports 24379/24390, 24380/24391, 24385/24396, 24386/24397.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openEtcdStore, type IntentEvent, type IntentStore } from '../../store/index.js';
import { ETCD_SKIP, startEtcd, type EtcdMember } from '../harness/etcd.js';
import { storeConformance, uid, until } from './conformance.js';

let etcd: EtcdMember | undefined;
let main: IntentStore | undefined;
const extra: IntentStore[] = [];

storeConformance({
  name: 'etcd (daemon: etcd-server on loopback)',
  skip: ETCD_SKIP,
  ttl: 1,
  async setup() {
    etcd = await startEtcd({ clientPort: 24379, peerPort: 24390 });
    main = openEtcdStore({ endpoints: [etcd.endpoint] });
  },
  async teardown() {
    await Promise.allSettled([main, ...extra].map((s) => s?.close()));
    await etcd?.destroy();
  },
  store: () => main!,
  clients: async (n) => {
    const cs = Array.from({ length: n }, () => openEtcdStore({ endpoints: [etcd!.endpoint] }));
    extra.push(...cs);
    return cs;
  },
});

describe('etcd driver (daemon: etcd-server on loopback)', { skip: ETCD_SKIP }, () => {
  test('a chassis registration lost during an etcd outage longer than its TTL is written again', async (t) => {
    const e = await startEtcd({ clientPort: 24386, peerPort: 24397 });
    const s = openEtcdStore({ endpoints: [e.endpoint], reRegisterDelayMs: 200, callTimeoutMs: 1000 });
    t.after(async () => {
      await s.close();
      await e.destroy();
    });
    const reg = await s.registerChassis('outage-c1', 1);
    const firstLease = reg.leaseId();
    let lost = 0;
    const renewed: string[] = [];
    reg.onLost(() => lost++);
    reg.onRenewed((id) => renewed.push(id));
    await e.kill();
    await until('the lease to be declared lost', () => lost > 0, 10000);
    e.spawn();
    await e.waitHealthy();
    await until('re-registration', () => renewed.length > 0, 10000);
    assert.notEqual(renewed[0], firstLease);
    // The old lease (given a fresh TTL by the restart) expires, the record stays on the new one.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await s.get('agent', 'outage-c1'))?.value.chassis, 'outage-c1');
  });

  test('list pages through more keys than one range page, at one revision', async (t) => {
    const e = await startEtcd({ clientPort: 24385, peerPort: 24396 });
    const s = openEtcdStore({ endpoints: [e.endpoint] });
    t.after(async () => {
      await s.close();
      await e.destroy();
    });
    for (let b = 0; b < 25; b++) {
      await s.txn(Array.from({ length: 100 }, (_, i) => ({ op: 'put' as const, kind: 'tenant' as const, value: { id: `pg-${b}-${i}`, subnets: ['10.0.0.0/24'] } })));
    }
    const { items, revision } = await s.list('tenant');
    assert.equal(items.length, 2500);
    assert.equal(new Set(items.map((i) => i.id)).size, 2500);
    assert.equal(revision, await s.revision());
  });

  test('a watch resumes after etcd is killed and restarted, without loss or duplicates', async (t) => {
    const e = await startEtcd({ clientPort: 24380, peerPort: 24391 });
    const watcherClient = openEtcdStore({ endpoints: [e.endpoint], watchBackoffMs: { initial: 100, max: 500 } });
    let writer = openEtcdStore({ endpoints: [e.endpoint] });
    t.after(async () => {
      await Promise.allSettled([watcherClient.close(), writer.close()]);
      await e.destroy();
    });
    const tenant = uid('t');
    await writer.put('tenant', { id: tenant, subnets: ['10.0.0.0/16'] });
    const seen: IntentEvent[] = [];
    const errors: Error[] = [];
    const w = await watcherClient.watch({ fromRevision: (await writer.revision()) + 1, kinds: ['port'] }, (ev) => seen.push(ev), (err) => errors.push(err));
    const written: string[] = [];
    const writePorts = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const id = uid('p');
        await writer.put('port', { id, tenant, fixedIp: `10.0.${(written.length >> 8) & 255}.${written.length & 255}`, chassis: 'c1' });
        written.push(id);
      }
    };
    await writePorts(30);
    await until('first events', () => seen.length === 30);
    for (const how of ['kill', 'stop'] as const) {
      if (how === 'kill') await e.kill();
      else await e.stopProcess();
      e.spawn();
      await e.waitHealthy();
      // A fresh writer connection (the old one's circuit breaker may still be open); the
      // watcher keeps its own connection and must catch up on what it missed.
      await writer.close();
      writer = openEtcdStore({ endpoints: [e.endpoint] });
      await writePorts(30);
    }
    await until('all events after two restarts', () => seen.length >= written.length, 15000);
    await new Promise((r) => setTimeout(r, 300)); // room for any duplicate to show up
    assert.deepEqual(errors, []);
    assert.deepEqual(seen.map((ev) => ev.id), written, 'events lost, repeated or out of order');
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.revision > seen[i - 1]!.revision);
    assert.equal(w.lastRevision(), seen[seen.length - 1]!.revision);
  });
});
