// The probe's pure parts: wire format round trips and rejection of foreign packets, the
// pacing schedule, and the report (loss, duplicates, reordering, longest gap, loss runs,
// responder switches, traffic at the end) on hand-built reply sequences.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { decodeReply, decodeRequest, encodeReply, encodeRequest } from './packet.js';
import { analyze, dueCount, formatReport, type Reply } from './stats.js';

/** Replies for seqs [from, to) sent every 1 ms from t=0, answered 0.25 ms later by `who`. */
function replies(from: number, to: number, who: string, delay = 0.25): Reply[] {
  const out: Reply[] = [];
  for (let s = from; s < to; s++) out.push({ seq: s, sentAt: s, recvAt: s + delay, from: who });
  return out;
}

describe('probe packets', () => {
  it('request and reply round-trip', () => {
    const q = encodeRequest({ seq: 4294967295, sentAt: 1234.5678 }, 64);
    assert.equal(q.length, 64);
    assert.deepEqual(decodeRequest(q), { seq: 4294967295, sentAt: 1234.5678 });
    const r = encodeReply({ seq: 7, sentAt: 1.5, from: 'vm1' });
    assert.deepEqual(decodeReply(r), { seq: 7, sentAt: 1.5, from: 'vm1' });
  });
  it('rejects short, foreign and truncated packets', () => {
    assert.equal(decodeRequest(Buffer.alloc(15)), undefined);
    assert.equal(decodeRequest(Buffer.alloc(16)), undefined);
    assert.equal(decodeReply(encodeRequest({ seq: 1, sentAt: 1 })), undefined);
    assert.equal(decodeRequest(encodeReply({ seq: 1, sentAt: 1, from: 'x' })), undefined);
    assert.equal(decodeReply(encodeReply({ seq: 1, sentAt: 1, from: 'vm1' }).subarray(0, 18)), undefined);
  });
});

describe('probe pacing', () => {
  it('is due one request at start and rate per second after', () => {
    assert.equal(dueCount(0, 1000), 1);
    assert.equal(dueCount(0.999, 1000), 1);
    assert.equal(dueCount(1, 1000), 2);
    assert.equal(dueCount(999, 1000), 1000);
    assert.equal(dueCount(25, 1000), 26); // a 25 ms late timer catches up at once
    assert.equal(dueCount(1000, 10), 11);
  });
});

describe('probe report', () => {
  it('no loss: gap is the send interval, one responder, traffic at the end', () => {
    const r = analyze({ sent: 1000, startAt: 0, endAt: 999, replies: replies(0, 1000, 'vm1') });
    assert.equal(r.received, 1000);
    assert.equal(r.lost, 0);
    assert.equal(r.longestGap.ms, 1);
    assert.equal(r.longestLossRun.packets, 0);
    assert.deepEqual(r.responders, { vm1: 1000 });
    assert.deepEqual(r.switches, []);
    assert.equal(r.resumed, true);
    assert.equal(r.firstReplyMs, 0.25);
    assert.ok(Math.abs(r.rttMs!.median - 0.25) < 1e-9);
  });

  it('a failover: loss run, gap between the last old and first new reply, one switch', () => {
    const rs = [...replies(0, 300, 'vm1'), ...replies(372, 1000, 'vm2')];
    const r = analyze({ sent: 1000, startAt: 0, endAt: 999, replies: rs });
    assert.equal(r.lost, 72);
    assert.equal(r.longestLossRun.packets, 72);
    assert.equal(r.longestLossRun.firstSeq, 300);
    assert.equal(r.longestGap.ms, 73); // 299.25 → 372.25
    assert.equal(r.longestGap.afterSeq, 299);
    assert.equal(r.longestGap.beforeSeq, 372);
    assert.deepEqual(r.switches, [{ atMs: 372.25, seq: 372, from: 'vm1', to: 'vm2' }]);
    assert.deepEqual(r.responders, { vm1: 300, vm2: 628 });
    assert.equal(r.lastResponder, 'vm2');
    assert.match(formatReport(r), /switch vm1 -> vm2 at 372\.\d ms \(seq 372\)/);
  });

  it('traffic that never comes back: the gap runs to the end of sending', () => {
    const r = analyze({ sent: 1000, startAt: 0, endAt: 999, replies: replies(0, 500, 'vm1') });
    assert.equal(r.lost, 500);
    assert.equal(r.resumed, false);
    assert.equal(r.longestGap.beforeSeq, undefined);
    assert.ok(Math.abs(r.longestGap.ms - (999 - 499.25)) < 1e-9);
    assert.match(formatReport(r), /never resumed/);
  });

  it('no reply at all', () => {
    const r = analyze({ sent: 100, startAt: 0, endAt: 99, replies: [] });
    assert.equal(r.received, 0);
    assert.equal(r.lost, 100);
    assert.equal(r.longestGap.ms, 99);
    assert.equal(r.firstReplyMs, undefined);
    assert.equal(r.rttMs, undefined);
  });

  it('duplicates count once; reordering is counted; foreign sequence numbers are ignored', () => {
    const rs = replies(0, 10, 'vm1');
    const swapped = [rs[0]!, rs[2]!, rs[1]!, ...rs.slice(3), rs[5]!, { seq: 5000, sentAt: 0, recvAt: 10, from: 'old' }];
    const r = analyze({ sent: 10, startAt: 0, endAt: 9, replies: swapped });
    assert.equal(r.received, 10);
    assert.equal(r.duplicates, 1);
    assert.equal(r.reordered, 1);
    assert.deepEqual(r.responders, { vm1: 10 });
  });

  it('a late first reply is not the longest gap (ARP, route set-up); it is reported apart', () => {
    const rs = replies(0, 100, 'vm1').map((x) => (x.seq < 20 ? { ...x, recvAt: 20.5 + x.seq * 0.001 } : x));
    const r = analyze({ sent: 100, startAt: 0, endAt: 99, replies: rs });
    assert.equal(r.firstReplyMs, 20.5);
    assert.ok(r.longestGap.ms < 2);
  });

  it('flapping between responders lists every switch', () => {
    const rs = [...replies(0, 10, 'a'), ...replies(10, 20, 'b'), ...replies(20, 30, 'a')];
    const r = analyze({ sent: 30, startAt: 0, endAt: 29, replies: rs });
    assert.deepEqual(r.switches.map((s) => `${s.from}>${s.to}@${s.seq}`), ['a>b@10', 'b>a@20']);
  });
});
