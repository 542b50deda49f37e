// Tests for BFD in a worker thread (RFC 5880/5881 over loopback, as udp.test.ts: 127.0.0.1
// ↔ 127.0.0.2 on a private port): bring-up, negotiated intervals in the synchronous
// snapshot, AdminDown reported as 'down', a crashed worker reported and replaced, errors
// typed as in process, clean close; and the reason for the thread: a 600 ms busy main thread leaves threaded
// sessions at 100 ms × 3 Up, while the same stall takes an in-process session Down.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { ThreadedBfdManager, type BfdManagerLike } from './threaded.js';
import { BfdManager, type BfdStateEvent } from './udp.js';

const A = '127.0.0.1';
const B = '127.0.0.2';

// Both managers satisfy the speaker's interface (checked by the compiler).
export const asManagerLike = (m: BfdManager): BfdManagerLike => m;

async function freePort(): Promise<number> {
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

function waitEvent(m: { once(name: string, fn: (ev: BfdStateEvent) => void): unknown }, name: 'up' | 'down', what = '', timeoutMs = 8000): Promise<BfdStateEvent> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${name}' ${what} within ${timeoutMs} ms`)), timeoutMs);
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

/** worker.js plus one way to crash it: a { crash: true } message throws outside any handler. */
async function crashableWorker(): Promise<URL> {
  const dir = await mkdtemp(join(tmpdir(), 'bfd-worker-'));
  const file = join(dir, 'crashable.mjs');
  await writeFile(file, [
    `import ${JSON.stringify(new URL('./worker.js', import.meta.url).href)};`,
    "import { parentPort } from 'node:worker_threads';",
    "parentPort.on('message', (m) => { if (m && m.crash) setImmediate(() => { throw new Error('injected crash'); }); });",
    '',
  ].join('\n'));
  after(() => rm(dir, { recursive: true, force: true }));
  return pathToFileURL(file);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function busyMainThread(ms: number): void {
  const t = Date.now();
  while (Date.now() - t < ms) { /* the main thread stalls, as it does under GC or a sync spawn */ }
}

test('threaded managers over loopback: Up, negotiated intervals, timer change, AdminDown, a crashed worker', { timeout: 20000 }, async (t) => {
  const port = await freePort();
  const ma = new ThreadedBfdManager({ port });
  const mb = new ThreadedBfdManager({ port, workerUrl: await crashableWorker() });
  t.after(async () => {
    await ma.close();
    await mb.close();
  });
  const upA = waitEvent(ma, 'up');
  const upB = waitEvent(mb, 'up');
  // Multipliers of 10 and 12 keep detection (0.5–1 s) clear of a loaded machine's pauses.
  const sa = await ma.add({ peer: B, local: A, minTx: 50, minRx: 70, multiplier: 10 });
  const sessUp = waitEvent(sa, 'up');
  const sb = await mb.add({ peer: A, local: B, minTx: 60, minRx: 50, multiplier: 12 });
  const [evA] = await Promise.all([upA, upB, sessUp]);
  assert.equal(evA.peer, B);
  assert.equal(evA.from === 'Init' || evA.from === 'Down', true, `from ${evA.from}`);
  assert.equal(evA.to, 'Up');
  assert.ok(Math.abs(evA.at - performance.now()) < 5000, 'event time is in this thread\'s clock');
  assert.equal(sa.isUp, true, 'the snapshot that came with the event says Up');
  assert.equal(ma.get(B), sa);
  assert.deepEqual(ma.sessions(), [sa]);

  // The polls started by Up finish, then the negotiated values show in the pushed snapshots.
  await until('negotiated intervals', () => {
    const a = sa.snapshot();
    const b = sb.snapshot();
    return a.remoteDiscr !== 0 && a.txInterval === 50 && a.rxInterval === 70 && a.detectionTimeMs === 840 && b.detectionTimeMs === 500;
  });
  const snap = ma.snapshot()[0]!;
  assert.equal(snap.state, 'Up');
  assert.equal(snap.remoteState, 'Up');
  assert.equal(snap.localDiscr, sa.localDiscr);
  assert.equal(snap.remoteDiscr, sb.localDiscr);
  assert.equal(snap.multiplier, 10);
  assert.equal(snap.remoteMultiplier, 12);
  await until('counters pushed', () => sa.snapshot().counters.rxPackets > 0 && sa.snapshot().counters.upTransitions === 1);
  const u1 = sa.snapshot().uptime;
  await sleep(30);
  assert.ok(sa.snapshot().uptime > u1, 'uptime runs between pushes');

  // A timer change crosses to the worker; B's detection time follows through a poll.
  ma.setTimers(B, { minTx: 100 });
  await until('B sees A at 100 ms', () => sb.snapshot().detectionTimeMs === 1000);
  assert.throws(() => ma.setTimers('127.0.0.9', { minTx: 100 }), /no session/);
  assert.throws(() => ma.setTimers(B, { minTx: 0 }), RangeError);

  // B removes its session: A hears AdminDown → 'down', diag 3, remoteAdminDown (RFC 5882 §3.2).
  const downA = waitEvent(sa, 'down', 'on A after B removed its session');
  await mb.remove(A);
  assert.equal(mb.get(A), undefined);
  const d = await downA;
  assert.equal(d.diag, 3);
  assert.equal(d.remoteAdminDown, true);
  assert.equal(d.from, 'Up');
  assert.equal(sa.snapshot().state, 'Down');

  // B comes back, then B's worker thread crashes (an exception nobody catches): it still
  // closes its sessions with AdminDown (RFC 5882 §3.2), B's main side reports them and an
  // error, and A hears a neighbor that only switched BFD off.
  const upAgainA = waitEvent(ma, 'up', 'on A after B came back');
  const upAgainB = waitEvent(mb, 'up', 'on B after it came back');
  await mb.add({ peer: A, local: B, minTx: 50, minRx: 50, multiplier: 10 });
  await Promise.all([upAgainA, upAgainB]);
  const downA2 = waitEvent(ma, 'down', 'on A when B crashed');
  const downB = waitEvent(mb, 'down', 'on B when its worker crashed');
  const errors: Error[] = [];
  mb.on('error', (e: Error) => errors.push(e));
  (mb as unknown as { worker: { postMessage(m: unknown): void } }).worker.postMessage({ crash: true });
  const lost = await downB;
  assert.equal(lost.from, 'Up');
  assert.equal(lost.to, 'AdminDown');
  await until('B empty', () => mb.sessions().length === 0);
  assert.ok(errors.some((e) => e.message === 'injected crash'), errors.map((e) => e.message).join('; '));
  assert.ok(errors.some((e) => /worker exited unexpectedly \(code 1\): injected crash/.test(e.message)), errors.map((e) => e.message).join('; '));
  const d2 = await downA2;
  assert.equal(d2.diagName, 'neighbor-signaled-session-down');
  assert.equal(d2.remoteAdminDown, true);
  // A manager whose worker died starts a new one on the next add().
  const upAgain2 = waitEvent(ma, 'up', 'on A after B restarted');
  await mb.add({ peer: A, local: B, minTx: 50, minRx: 50, multiplier: 10 });
  await upAgain2;
});

test('threaded add() rejects as the in-process one does, and close() ends the worker', { timeout: 10000 }, async () => {
  const m = new ThreadedBfdManager({ port: await freePort() });
  try {
    await assert.rejects(m.add({ peer: 'nope', local: A, minTx: 100, minRx: 100, multiplier: 3 }), TypeError);
    await assert.rejects(m.add({ peer: '::1', local: A, minTx: 100, minRx: 100, multiplier: 3 }), TypeError);
    await assert.rejects(m.add({ peer: B, local: A, minTx: 100, minRx: 100, multiplier: 0 }), RangeError);
    await m.add({ peer: B, local: A, minTx: 100, minRx: 100, multiplier: 3 });
    await assert.rejects(m.add({ peer: B, local: A, minTx: 100, minRx: 100, multiplier: 3 }), /exists/);
    await assert.rejects(m.add({ peer: '127.0.0.3', local: '192.0.2.77', minTx: 100, minRx: 100, multiplier: 3 }), (e: NodeJS.ErrnoException) => e.code === 'EADDRNOTAVAIL');
  } finally {
    await m.close();
  }
  assert.equal(m.sessions().length, 0);
  // Usable again after close (a new worker), like BfdManager.
  const s = await m.add({ peer: B, local: A, minTx: 100, minRx: 100, multiplier: 3 });
  assert.equal(s.snapshot().state, 'Down');
  await m.close();
});

test('a 600 ms stall of the main thread: threaded sessions at 100 ms × 3 stay Up, an in-process one goes Down', { timeout: 15000 }, async (t) => {
  const timers = { minTx: 100, minRx: 100, multiplier: 3 };
  // The far end is always threaded, so only the side under test shares the stalled thread.
  async function stallWith(near: BfdManagerLike, port: number): Promise<{ downs: string[]; nearState: string; farState: string; nearDownTransitions: number }> {
    const far = new ThreadedBfdManager({ port });
    t.after(() => far.close());
    const up = Promise.all([waitEvent(far, 'up'), new Promise((r) => near.on('up', r))]);
    await near.add({ peer: B, local: A, ...timers });
    await far.add({ peer: A, local: B, ...timers });
    await up;
    await sleep(300); // the polls of the Up transition are over; steady 100 ms packets
    const downs: string[] = [];
    near.on('down', (ev) => downs.push(`near ${ev.diagName}`));
    far.on('down', (ev) => downs.push(`far ${ev.diagName}`));
    busyMainThread(600);
    await sleep(500); // events queued during the stall arrive; any detection has happened
    const r = { downs: [...downs], nearState: near.get(B)!.snapshot().state, farState: far.get(A)!.snapshot().state, nearDownTransitions: near.get(B)!.snapshot().counters.downTransitions };
    await far.close();
    return r;
  }

  const port1 = await freePort();
  const threaded = new ThreadedBfdManager({ port: port1 });
  t.after(() => threaded.close());
  const r1 = await stallWith(threaded, port1);
  assert.deepEqual(r1.downs, [], 'no down event with BFD in worker threads');
  assert.equal(r1.nearState, 'Up');
  assert.equal(r1.farState, 'Up');
  assert.equal(r1.nearDownTransitions, 0);
  await threaded.close();

  const port2 = await freePort();
  const inProcess = new BfdManager({ port: port2 });
  t.after(() => inProcess.close());
  const r2 = await stallWith(inProcess, port2);
  assert.ok(r2.downs.includes('far control-detection-time-expired'), `the far end detected the stalled main thread: ${JSON.stringify(r2)}`);
});
