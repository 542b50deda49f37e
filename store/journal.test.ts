import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeJournal, decodeSnapshot, encodeRecord, encodeSnapshot, type JournalRecord } from './journal.js';

const recs: JournalRecord[] = [
  { s: 1, r: 1, o: [{ p: '/edgeflow/v1/tenant/t1', v: '{"id":"t1","name":"ünïcødé"}' }] },
  { s: 2, r: 1, lg: [{ id: '1', ttl: 5 }] },
  { s: 3, r: 2, o: [{ p: '/edgeflow/v1/agent/c1', v: '{}', l: '1' }, { d: '/edgeflow/v1/tenant/t1' }] },
];
const bufs = recs.map(encodeRecord);
const all = Buffer.concat(bufs);

test('journal records round-trip', () => {
  const d = decodeJournal(all);
  assert.deepEqual(d.records, recs);
  assert.equal(d.validBytes, all.length);
  assert.equal(d.discardedBytes, 0);
});

test('a journal cut at every byte keeps exactly the whole records before the cut', () => {
  const ends = bufs.map((_, i) => bufs.slice(0, i + 1).reduce((n, b) => n + b.length, 0));
  for (let cut = 0; cut <= all.length; cut++) {
    const d = decodeJournal(all.subarray(0, cut));
    const whole = ends.filter((e) => e <= cut).length;
    assert.equal(d.records.length, whole, `cut at ${cut}`);
    assert.equal(d.validBytes, whole === 0 ? 0 : ends[whole - 1]);
  }
});

test('a flipped byte in a record ends the valid prefix there', () => {
  for (let i = bufs[0]!.length; i < bufs[0]!.length + bufs[1]!.length - 1; i++) {
    const b = Buffer.from(all);
    b[i] = b[i]! ^ 0x01;
    const d = decodeJournal(b);
    assert.equal(d.records.length, 1, `flip at ${i}`);
    assert.equal(d.validBytes, bufs[0]!.length);
  }
});

test('records out of sequence end the valid prefix', () => {
  const d = decodeJournal(Buffer.concat([bufs[1]!, bufs[0]!]));
  assert.equal(d.records.length, 1);
});

test('snapshot round-trips and a damaged one is refused', () => {
  const s = { format: 'edgeflow-embedded/1' as const, seq: 3, revision: 2, entries: [['k', 'v', 1, 2, 2, null] as [string, string, number, number, number, null]], leases: [{ id: '1', ttl: 5 }], nextLeaseId: 1 };
  const b = encodeSnapshot(s);
  assert.deepEqual(decodeSnapshot(b), s);
  const bad = Buffer.from(b);
  bad[20] = bad[20]! ^ 0xff;
  assert.equal(decodeSnapshot(bad), undefined);
  assert.equal(decodeSnapshot(b.subarray(0, b.length - 5)), undefined);
});
