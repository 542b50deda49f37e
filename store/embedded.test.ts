// Unit tests of the embedded backend with an injected clock: lease expiry and
// keepalive, bounded watch history, compare semantics. (Disk and crash tests, and
// the conformance suite shared with etcd, are in test/store/embedded.test.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EmbeddedKv, type EmbeddedClock } from './embedded.js';
import { StoreError } from './errors.js';
import type { KvEvent } from './kv.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

class FakeClock implements EmbeddedClock {
  t = 1_000_000;
  private timers = new Map<number, { fn: () => void; ms: number; next: number }>();
  private id = 0;
  now(): number {
    return this.t;
  }
  setInterval(fn: () => void, ms: number): unknown {
    this.timers.set(++this.id, { fn, ms, next: this.t + ms });
    return this.id;
  }
  clearInterval(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Advances time, firing intervals in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let first: { fn: () => void; ms: number; next: number } | undefined;
      for (const t of this.timers.values()) if (t.next <= end && (!first || t.next < first.next)) first = t;
      if (!first) break;
      this.t = first.next;
      first.next += first.ms;
      first.fn();
    }
    this.t = end;
  }
}

async function open(opts: Partial<Parameters<typeof EmbeddedKv.open>[0]> = {}): Promise<EmbeddedKv> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeflow-kv-'));
  dirs.push(dir);
  return EmbeddedKv.open({ dir, fsync: false, ...opts });
}
const settle = () => new Promise((r) => setTimeout(r, 5));

test('a lease kept alive survives; released, it expires after its TTL and its keys go', async () => {
  const clock = new FakeClock();
  const kv = await open({ clock, leaseCheckMs: 100 });
  const events: KvEvent[] = [];
  await kv.watch('/a/', 0, (evs) => events.push(...evs), () => undefined);
  const lease = await kv.grantLease(2);
  let lost = false;
  lease.onLost(() => (lost = true));
  await kv.txn([], [{ type: 'put', key: '/a/x', value: '1', lease: lease.id }, { type: 'put', key: '/a/y', value: '2' }]);
  clock.advance(10_000); // keepalive every TTL/3 keeps it
  await settle();
  assert.ok(await kv.get('/a/x'));
  lease.release();
  clock.advance(1900);
  await settle();
  assert.ok(await kv.get('/a/x'), 'expired early');
  clock.advance(200);
  await settle();
  assert.equal(await kv.get('/a/x'), undefined);
  assert.ok(await kv.get('/a/y'), 'a key without the lease must stay');
  assert.ok(lost);
  assert.deepEqual(events.map((e) => `${e.type} ${e.key}`), ['put /a/x', 'put /a/y', 'delete /a/x']);
  await assert.rejects(kv.txn([], [{ type: 'put', key: '/a/z', value: '1', lease: lease.id }]), (e: StoreError) => e.code === 'EF_STORE_NOT_FOUND');
  await kv.close();
});

test('history is bounded: a watch from before it fails with EF_STORE_COMPACTED', async () => {
  const kv = await open({ historyRevisions: 5 });
  for (let i = 0; i < 10; i++) await kv.txn([], [{ type: 'put', key: `/k/${i}`, value: 'v' }]);
  const got: number[] = [];
  await kv.watch('/k/', 6, (evs) => got.push(...evs.map((e) => e.revision)), () => assert.fail('6 is still in history'));
  await settle();
  assert.deepEqual(got, [6, 7, 8, 9, 10]);
  const err = await new Promise<Error>((resolve) => void kv.watch('/k/', 5, () => undefined, resolve));
  assert.equal((err as StoreError).code, 'EF_STORE_COMPACTED');
  await kv.close();
});

test('compares treat an absent key as revision 0, and a failed txn changes nothing', async () => {
  const kv = await open();
  assert.equal((await kv.txn([{ key: '/c', target: 'mod', op: '==', value: 0 }], [{ type: 'put', key: '/c', value: 'a' }])).succeeded, true);
  const r = await kv.revision();
  const res = await kv.txn([{ key: '/c', target: 'mod', op: '==', value: 0 }], [{ type: 'put', key: '/c', value: 'b' }, { type: 'put', key: '/d', value: 'b' }]);
  assert.deepEqual(res, { succeeded: false, revision: r });
  assert.equal((await kv.get('/c'))?.value, 'a');
  assert.equal(await kv.get('/d'), undefined);
  assert.equal((await kv.txn([{ key: '/c', target: 'value', op: '==', value: 'a' }, { key: '/c', target: 'version', op: '==', value: 1 }], [{ type: 'delete', key: '/c' }])).succeeded, true);
  assert.equal((await kv.txn([{ key: '/c', target: 'value', op: '!=', value: 'x' }], [])).succeeded, false, 'a value compare on an absent key is false');
  await kv.close();
});

test('events of one transaction arrive together; watches from a revision in the past replay in order', async () => {
  const kv = await open();
  await kv.txn([], [{ type: 'put', key: '/w/1', value: 'a' }, { type: 'put', key: '/w/2', value: 'b' }]);
  await kv.txn([], [{ type: 'delete', key: '/w/1' }, { type: 'put', key: '/w/2', value: 'c' }]);
  const batches: KvEvent[][] = [];
  await kv.watch('/w/', 1, (evs) => batches.push(evs), () => undefined);
  await settle();
  assert.deepEqual(batches.map((b) => b.map((e) => `${e.revision} ${e.type} ${e.key} ${e.value} ${e.prevValue}`)), [
    ['1 put /w/1 a null', '1 put /w/2 b null'],
    ['2 delete /w/1 null a', '2 put /w/2 c b'],
  ]);
  await kv.close();
});
