// Tests for the BFD UDP shell (RFC 5881): two BfdManagers in this process talk over
// loopback (127.0.0.1 ↔ 127.0.0.2 on a private port, so nothing else's port 3784 is
// touched): bring-up, snapshots, poll on a timer change, AdminDown on remove, detection
// when one side goes silent, drops counted by reason, and the GTSM rule text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';

import { BfdManager, BFD_SRC_PORT_MAX, BFD_SRC_PORT_MIN, bfdGtsmNftScript, bfdGtsmRules, type BfdStateEvent } from './udp.js';
import { BfdState, encodeControl } from './codec.js';

const A = '127.0.0.1';
const B = '127.0.0.2';

async function freePort(): Promise<number> {
  // Any free UDP port on both loopback addresses.
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const socks = [dgram.createSocket('udp4'), dgram.createSocket('udp4')];
    try {
      await Promise.all(socks.map((s, i) => new Promise<void>((res, rej) => {
        s.once('error', rej);
        s.bind({ address: i === 0 ? A : B, port, exclusive: true }, () => res());
      })));
      return port;
    } catch {
      /* try another */
    } finally {
      for (const s of socks) s.close();
    }
  }
}

function waitEvent(m: BfdManager, name: 'up' | 'down', timeoutMs = 10000): Promise<BfdStateEvent> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${name}' within ${timeoutMs} ms`)), timeoutMs);
    m.once(name, (ev: BfdStateEvent) => {
      clearTimeout(t);
      resolve(ev);
    });
  });
}

async function until(what: string, fn: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('two managers over loopback: Up, negotiated intervals, poll, AdminDown, detection, drops', { timeout: 30000 }, async (t) => {
  const port = await freePort();
  const ma = new BfdManager({ port });
  const mb = new BfdManager({ port });
  t.after(async () => {
    await ma.close();
    await mb.close();
  });
  const upA = waitEvent(ma, 'up');
  const upB = waitEvent(mb, 'up');
  const sa = await ma.add({ peer: B, local: A, minTx: 50, minRx: 70, multiplier: 5 });
  await mb.add({ peer: A, local: B, minTx: 60, minRx: 50, multiplier: 6 });
  const [evA] = await Promise.all([upA, upB]);
  assert.equal(evA.peer, B);
  assert.equal(evA.to, 'Up');
  assert.ok(sa.sourcePort >= BFD_SRC_PORT_MIN && sa.sourcePort <= BFD_SRC_PORT_MAX, `source port ${sa.sourcePort}`);

  // Wait until both polls (one per side, started by the Up transition) are over.
  await until('polls done', () => ma.get(B)!.state.poll === 'idle' && mb.get(A)!.state.poll === 'idle');
  const snap = ma.snapshot()[0]!;
  assert.equal(snap.state, 'Up');
  assert.equal(snap.remoteState, 'Up');
  assert.equal(snap.localDiscr, sa.localDiscr);
  assert.equal(snap.remoteDiscr, mb.get(A)!.localDiscr);
  assert.equal(snap.txInterval, 50, 'A sends at max(50, B rx 50)');
  assert.equal(snap.rxInterval, 70, 'B sends to A at max(A rx 70, B tx 60)');
  assert.equal(snap.multiplier, 5);
  assert.equal(snap.remoteMultiplier, 6);
  assert.equal(snap.detectionTimeMs, 420, '6 × 70');
  assert.ok(snap.counters.rxPackets > 0 && snap.counters.txPackets > 0);
  assert.ok(snap.counters.pollsCompleted >= 1);
  assert.equal(mb.snapshot()[0]!.detectionTimeMs, 250, '5 × max(50, 50)');

  // Timer change while Up: a poll tells B, B's detection time follows.
  ma.setTimers(B, { minTx: 100 });
  await until('B sees A at 100 ms', () => mb.get(A)!.snapshot().detectionTimeMs === 500);
  await until('A poll done', () => ma.get(B)!.state.poll === 'idle');
  assert.equal(ma.get(B)!.snapshot().txInterval, 100);
  assert.equal(ma.get(B)!.snapshot().state, 'Up');

  // Garbage and strangers are dropped and counted, never crash.
  const stranger = dgram.createSocket('udp4');
  await new Promise<void>((r) => stranger.bind({ address: B, port: 0 }, () => r()));
  const bytes = encodeControl({
    diag: 0, state: BfdState.Up, poll: false, final: false, cpi: false, demand: false, detectMult: 3,
    myDiscr: 5, yourDiscr: 0xdeadbeef, desiredMinTx: 1000, requiredMinRx: 1000, requiredMinEchoRx: 0,
  });
  for (const msg of [Buffer.from('hello'), Buffer.from(bytes), Buffer.alloc(24)]) stranger.send(msg, port, A);
  await until('drops counted', () => (ma.drops['truncated'] ?? 0) >= 1 && (ma.drops['unknown-your-discr'] ?? 0) >= 1 && (ma.drops['bad-version'] ?? 0) >= 1);
  stranger.close();
  // Packets from another source that carry our discriminator are not accepted.
  const spoof = dgram.createSocket('udp4');
  await new Promise<void>((r) => spoof.bind({ address: '127.0.0.3', port: 0 }, () => r()));
  spoof.send(encodeControl({
    diag: 0, state: BfdState.Down, poll: false, final: false, cpi: false, demand: false, detectMult: 3,
    myDiscr: 5, yourDiscr: sa.localDiscr, desiredMinTx: 1000, requiredMinRx: 1000, requiredMinEchoRx: 0,
  }), port, A);
  await until('wrong-source drop', () => (ma.drops['wrong-source'] ?? 0) >= 1);
  spoof.close();
  assert.equal(sa.snapshot().state, 'Up', 'the spoofed Down did not take the session down');

  // B removes the session: A hears AdminDown → Down, diag 3, remoteAdminDown (RFC 5882 §3.2).
  const downA = waitEvent(ma, 'down');
  await mb.remove(A);
  const d = await downA;
  assert.equal(d.diag, 3);
  assert.equal(d.diagName, 'neighbor-signaled-session-down');
  assert.equal(d.remoteAdminDown, true);
  assert.equal(d.from, 'Up');

  // B comes back; then B goes silent without a word → A detects it (diag 1).
  const upAgain = waitEvent(ma, 'up');
  const sb2 = await mb.add({ peer: A, local: B, minTx: 50, minRx: 50, multiplier: 3 });
  await upAgain;
  const downA2 = waitEvent(ma, 'down');
  await (sb2 as unknown as { close(): Promise<void> }).close(); // stops timers and socket, sends nothing
  const d2 = await downA2;
  assert.equal(d2.diag, 1);
  assert.equal(d2.diagName, 'control-detection-time-expired');
  assert.equal(d2.remoteAdminDown, false);
  assert.equal(sa.snapshot().remoteDiscr, 0);
});

test('add() validates its input', async () => {
  const m = new BfdManager({ port: await freePort() });
  try {
    await assert.rejects(m.add({ peer: 'nope', local: A, minTx: 100, minRx: 100, multiplier: 3 }), TypeError);
    await assert.rejects(m.add({ peer: '::1', local: A, minTx: 100, minRx: 100, multiplier: 3 }), TypeError);
    await assert.rejects(m.add({ peer: B, local: A, minTx: 100, minRx: 100, multiplier: 0 }), RangeError);
    await assert.rejects(m.add({ peer: B, local: A, minTx: 0, minRx: 100, multiplier: 3 }), RangeError);
    await m.add({ peer: B, local: A, minTx: 100, minRx: 100, multiplier: 3 });
    await assert.rejects(m.add({ peer: B, local: A, minTx: 100, minRx: 100, multiplier: 3 }), /exists/);
  } finally {
    await m.close();
  }
});

test('GTSM rule text (RFC 5881 §5 enforced by nftables)', () => {
  assert.deepEqual(bfdGtsmRules(), ['udp dport 3784 ip ttl != 255 drop', 'udp dport 3784 ip6 hoplimit != 255 drop']);
  const script = bfdGtsmNftScript('t1');
  assert.match(script, /^table inet t1 \{\}\nflush table inet t1\ntable inet t1 \{\n  chain input \{\n    type filter hook input priority -150; policy accept;\n    udp dport 3784 ip ttl != 255 drop\n    udp dport 3784 ip6 hoplimit != 255 drop\n  \}\n\}\n$/);
});



test('close({ silent }) stops without AdminDown: the peer detects a timeout (a restart looks like a crash)', { timeout: 20000 }, async (t) => {
  const port = await freePort();
  const ma = new BfdManager({ port });
  const mb = new BfdManager({ port });
  t.after(async () => {
    await ma.close();
    await mb.close();
  });
  const up = Promise.all([waitEvent(ma, 'up'), waitEvent(mb, 'up')]);
  await ma.add({ peer: B, local: A, minTx: 50, minRx: 50, multiplier: 3 });
  await mb.add({ peer: A, local: B, minTx: 50, minRx: 50, multiplier: 3 });
  await up;
  const down = waitEvent(mb, 'down');
  await ma.close({ silent: true });
  const ev = await down;
  assert.equal(ev.remoteAdminDown, false, 'no AdminDown was sent');
  assert.equal(ev.diagName, 'control-detection-time-expired');
});
