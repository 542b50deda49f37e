// Tests for the pure BFD session machine (RFC 5880 §6.8): single steps against the
// reception and transmission rules, then two sessions wired through a simulated link
// with a fake clock, so hours of timers run in milliseconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BFD_STATE_NAMES, BfdDiag, BfdState, decodeControl, encodeControl, type BfdControlPacket } from './codec.js';
import {
  SLOW_TX_US,
  createSession,
  detectionTimeMs,
  jitteredGapMs,
  step,
  txIntervalUs,
  type BfdAction,
  type BfdEvent,
  type BfdSessionState,
} from './session.js';

/** Deterministic PRNG (mulberry32) so failures replay. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const ctx = { random: rng(1) };
const MS = 1000; // µs per ms

function fresh(over: Partial<{ desiredMinTx: number; requiredMinRx: number; detectMult: number; localDiscr: number; sendOnStateChange: boolean }> = {}): BfdSessionState {
  return createSession({ localDiscr: 0x1111, desiredMinTx: 100 * MS, requiredMinRx: 100 * MS, detectMult: 3, ...over }, 0).state;
}

function pkt(over: Partial<BfdControlPacket> = {}): BfdControlPacket {
  return {
    diag: 0, state: BfdState.Down, poll: false, final: false, cpi: false, demand: false, detectMult: 3,
    myDiscr: 0x2222, yourDiscr: 0, desiredMinTx: SLOW_TX_US, requiredMinRx: 100 * MS, requiredMinEchoRx: 0, ...over,
  };
}

function sends(actions: BfdAction[]): Array<Extract<BfdAction, { type: 'send' }>> {
  return actions.filter((a): a is Extract<BfdAction, { type: 'send' }> => a.type === 'send');
}
function changes(actions: BfdAction[]): Array<Extract<BfdAction, { type: 'state-change' }>> {
  return actions.filter((a): a is Extract<BfdAction, { type: 'state-change' }> => a.type === 'state-change');
}

/** Drives a session from Down to Up against a peer that answers in kind. */
function bringUp(s: BfdSessionState, now = 10): BfdSessionState {
  s = step(s, { type: 'rx', now, packet: pkt({ state: BfdState.Down }) }, ctx).state;
  assert.equal(s.sessionState, BfdState.Init);
  s = step(s, { type: 'rx', now: now + 1, packet: pkt({ state: BfdState.Up, yourDiscr: s.localDiscr }) }, ctx).state;
  assert.equal(s.sessionState, BfdState.Up);
  return s;
}

test('starts Down with the §6.8.1 initial values and asks to send at once', () => {
  const r = createSession({ localDiscr: 7, desiredMinTx: 100 * MS, requiredMinRx: 50 * MS, detectMult: 3 }, 5);
  const s = r.state;
  assert.equal(s.sessionState, BfdState.Down);
  assert.equal(s.remoteSessionState, BfdState.Down);
  assert.equal(s.remoteDiscr, 0);
  assert.equal(s.localDiag, BfdDiag.None);
  assert.equal(s.remoteMinRx, 1, 'bfd.RemoteMinRxInterval starts at 1');
  assert.equal(s.desiredMinTx, SLOW_TX_US, 'slow start: ≥ 1 s while not Up (§6.8.3)');
  assert.deepEqual(r.actions, [{ type: 'set-timers', txAt: 5, detectAt: null }]);
  const t = step(s, { type: 'tx-timer', now: 5 }, ctx);
  const [sent] = sends(t.actions);
  assert.deepEqual(sent?.packet, pkt({ myDiscr: 7, yourDiscr: 0, desiredMinTx: SLOW_TX_US, requiredMinRx: 50 * MS }));
  // Next packet within the jittered slow interval: 750–1000 ms.
  assert.ok(t.state.nextTxAt! >= 5 + 750 && t.state.nextTxAt! <= 5 + 1000, String(t.state.nextTxAt));
});

test('rejects configurations the RFC forbids', () => {
  assert.throws(() => createSession({ localDiscr: 0, desiredMinTx: 1, requiredMinRx: 1, detectMult: 3 }, 0), RangeError);
  assert.throws(() => createSession({ localDiscr: 1, desiredMinTx: 1, requiredMinRx: 1, detectMult: 0 }, 0), RangeError);
  assert.throws(() => createSession({ localDiscr: 1, desiredMinTx: 0, requiredMinRx: 1, detectMult: 3 }, 0), RangeError);
});

test('three-way handshake follows the §6.8.6 table', () => {
  const cases: Array<[BfdState, BfdState, BfdState]> = [
    // [our state, received state, expected state]
    [BfdState.Down, BfdState.Down, BfdState.Init],
    [BfdState.Down, BfdState.Init, BfdState.Up],
    [BfdState.Down, BfdState.Up, BfdState.Down],
    [BfdState.Down, BfdState.AdminDown, BfdState.Down],
    [BfdState.Init, BfdState.Down, BfdState.Init],
    [BfdState.Init, BfdState.Init, BfdState.Up],
    [BfdState.Init, BfdState.Up, BfdState.Up],
    [BfdState.Init, BfdState.AdminDown, BfdState.Down],
    [BfdState.Up, BfdState.Down, BfdState.Down],
    [BfdState.Up, BfdState.Init, BfdState.Up],
    [BfdState.Up, BfdState.Up, BfdState.Up],
    [BfdState.Up, BfdState.AdminDown, BfdState.Down],
  ];
  for (const [ours, theirs, want] of cases) {
    let s = fresh();
    if (ours === BfdState.Init) s = step(s, { type: 'rx', now: 1, packet: pkt() }, ctx).state;
    if (ours === BfdState.Up) s = bringUp(s);
    assert.equal(s.sessionState, ours);
    const r = step(s, { type: 'rx', now: 50, packet: pkt({ state: theirs, yourDiscr: theirs === BfdState.Down || theirs === BfdState.AdminDown ? 0 : s.localDiscr }) }, ctx);
    assert.equal(r.state.sessionState, want, `${BFD_STATE_NAMES[ours]} + rx ${BFD_STATE_NAMES[theirs]}`);
    if (ours !== BfdState.Down && want === BfdState.Down) {
      assert.equal(r.state.localDiag, BfdDiag.NeighborSignaledSessionDown, 'diag 3');
      assert.deepEqual(changes(r.actions).map((c) => c.diag), [BfdDiag.NeighborSignaledSessionDown]);
    }
  }
});

test('copies the peer’s fields into the §6.8.1 variables', () => {
  const r = step(fresh(), { type: 'rx', now: 3, packet: pkt({ myDiscr: 99, detectMult: 5, desiredMinTx: 2_000_000, requiredMinRx: 300 * MS, diag: 1, demand: true }) }, ctx);
  const s = r.state;
  assert.equal(s.remoteDiscr, 99);
  assert.equal(s.remoteSessionState, BfdState.Down);
  assert.equal(s.remoteMinRx, 300 * MS);
  assert.equal(s.remoteDemand, true);
  assert.equal(s.remoteDetectMult, 5);
  // §6.8.4: Detection Time = remote mult × max(our RX, remote TX) = 5 × 2 s.
  assert.equal(detectionTimeMs(s), 10_000);
  assert.equal(s.detectAt, 3 + 10_000);
});

test('answers a Poll at once with Final set and Poll clear (§6.8.7, §6.5), even in Down', () => {
  const r = step(fresh(), { type: 'rx', now: 3, packet: pkt({ poll: true }) }, ctx);
  const finals = sends(r.actions).filter((a) => a.reason === 'final');
  assert.equal(finals.length, 1);
  assert.equal(finals[0]!.packet.final, true);
  assert.equal(finals[0]!.packet.poll, false);
  // No Final without a Poll.
  assert.equal(sends(step(fresh(), { type: 'rx', now: 3, packet: pkt() }, ctx).actions).filter((a) => a.reason === 'final').length, 0);
});

test('drops packets with the A bit: no authentication in use (§6.8.6)', () => {
  const s = fresh();
  const r = step(s, { type: 'rx', now: 3, packet: pkt({ auth: { type: 1, data: new Uint8Array([1, 2, 3]) } }) }, ctx);
  assert.deepEqual(r.actions, [{ type: 'drop', reason: 'auth-not-in-use' }]);
  assert.equal(r.state.remoteDiscr, 0);
  assert.equal(r.state.sessionState, BfdState.Down);
});

test('detection timer in Up → Down with diag 1 and RemoteDiscr zeroed (§6.8.4, §6.8.1)', () => {
  const s = bringUp(fresh());
  const at = s.detectAt!;
  // Early firing changes nothing.
  assert.equal(step(s, { type: 'detect-timer', now: at - 1 }, ctx).state.sessionState, BfdState.Up);
  const r = step(s, { type: 'detect-timer', now: at }, ctx);
  assert.equal(r.state.sessionState, BfdState.Down);
  assert.equal(r.state.localDiag, BfdDiag.ControlDetectionTimeExpired);
  assert.equal(r.state.remoteDiscr, 0);
  assert.equal(r.state.detectAt, null);
  assert.deepEqual(changes(r.actions).map((c) => [c.from, c.to, c.diag]), [[BfdState.Up, BfdState.Down, 1]]);
  // The packet sent on the change reports Down, diag 1, slow TX again, Your Discriminator 0.
  const sent = sends(r.actions)[0]!.packet;
  assert.equal(sent.state, BfdState.Down);
  assert.equal(sent.diag, 1);
  assert.equal(sent.yourDiscr, 0);
  assert.equal(sent.desiredMinTx, SLOW_TX_US);
  // In Down, expiry only forgets the peer.
  const d = step(step(fresh(), { type: 'rx', now: 1, packet: pkt({ state: BfdState.AdminDown }) }, ctx).state, { type: 'detect-timer', now: 1e9 }, ctx);
  assert.equal(d.state.sessionState, BfdState.Down);
  assert.equal(d.state.remoteDiscr, 0);
  assert.equal(changes(d.actions).length, 0);
});

test('administrative control: AdminDown diag 7, packets ignored, AdminUp → Down (§6.8.16)', () => {
  let s = bringUp(fresh());
  let r = step(s, { type: 'admin-down', now: 100 }, ctx);
  s = r.state;
  assert.equal(s.sessionState, BfdState.AdminDown);
  assert.equal(s.localDiag, BfdDiag.AdministrativelyDown);
  assert.equal(sends(r.actions)[0]!.packet.state, BfdState.AdminDown);
  assert.ok(s.desiredMinTx >= SLOW_TX_US);
  // Received packets do not move an AdminDown session and do not count for detection.
  r = step(s, { type: 'rx', now: 101, packet: pkt({ state: BfdState.Init, yourDiscr: s.localDiscr }) }, ctx);
  assert.equal(r.state.sessionState, BfdState.AdminDown);
  assert.equal(r.state.detectAt, s.detectAt);
  // Periodic packets keep going out, with state AdminDown.
  const t = step(r.state, { type: 'tx-timer', now: r.state.nextTxAt! }, ctx);
  assert.equal(sends(t.actions)[0]!.packet.state, BfdState.AdminDown);
  r = step(t.state, { type: 'admin-up', now: 2000 }, ctx);
  assert.equal(r.state.sessionState, BfdState.Down);
  assert.equal(r.state.localDiag, BfdDiag.None);
});

test('jitter: 0–25 % reduction, 10–25 % when DetectMult is 1 (§6.8.7)', () => {
  const random = rng(7);
  for (let i = 0; i < 10000; i++) {
    const g3 = jitteredGapMs(100 * MS, 3, random);
    assert.ok(g3 >= 75 && g3 <= 100, String(g3));
    const g1 = jitteredGapMs(100 * MS, 1, random);
    assert.ok(g1 >= 75 && g1 <= 90, String(g1));
  }
  assert.equal(jitteredGapMs(100 * MS, 3, () => 0), 100);
  assert.equal(jitteredGapMs(100 * MS, 3, () => 1), 75);
  assert.equal(jitteredGapMs(100 * MS, 1, () => 0), 75);
  assert.equal(jitteredGapMs(100 * MS, 1, () => 1), 90);
});

test('no periodic packets when the peer’s Required Min RX is 0 (§6.8.7)', () => {
  const r = step(fresh(), { type: 'rx', now: 3, packet: pkt({ requiredMinRx: 0 }) }, ctx);
  assert.equal(r.state.nextTxAt, null);
  assert.equal(sends(step(r.state, { type: 'tx-timer', now: 1e6 }, ctx).actions).length, 0);
  // …and they resume when it is nonzero again.
  const back = step(r.state, { type: 'rx', now: 4, packet: pkt({ requiredMinRx: 1 }) }, ctx);
  assert.notEqual(back.state.nextTxAt, null);
});

test('a peer in Demand mode stops our periodic packets while both are Up (§6.8.6)', () => {
  let s = bringUp(fresh());
  // Finish the poll of the Up transition first.
  s = step(s, { type: 'rx', now: 20, packet: pkt({ state: BfdState.Up, yourDiscr: s.localDiscr, final: true }) }, ctx).state;
  const r = step(s, { type: 'rx', now: 30, packet: pkt({ state: BfdState.Up, yourDiscr: s.localDiscr, demand: true }) }, ctx);
  assert.equal(r.state.nextTxAt, null);
  // A Poll is still answered.
  const p = step(r.state, { type: 'rx', now: 31, packet: pkt({ state: BfdState.Up, yourDiscr: s.localDiscr, demand: true, poll: true }) }, ctx);
  assert.equal(sends(p.actions)[0]?.packet.final, true);
});

test('going Up: configured TX advertised, poll started, faster TX applied at once (§6.8.3)', () => {
  let s = step(fresh(), { type: 'rx', now: 1, packet: pkt() }, ctx).state;
  assert.equal(s.desiredMinTx, SLOW_TX_US);
  const r = step(s, { type: 'rx', now: 2, packet: pkt({ state: BfdState.Up, yourDiscr: s.localDiscr }) }, ctx);
  s = r.state;
  assert.equal(s.desiredMinTx, 100 * MS);
  assert.equal(s.poll, 'active');
  const upPacket = sends(r.actions).find((a) => a.reason === 'state-change')!.packet;
  assert.equal(upPacket.poll, true);
  assert.equal(upPacket.final, false);
  // Peer still advertises 1 s TX and 100 ms RX: we transmit at max(100 ms, 100 ms).
  assert.equal(txIntervalUs(s), 100 * MS);
  // Poll goes on every periodic packet until the Final arrives.
  const t = step(s, { type: 'tx-timer', now: s.nextTxAt! }, ctx);
  assert.equal(sends(t.actions)[0]!.packet.poll, true);
  const f = step(t.state, { type: 'rx', now: t.state.nextTxAt! - 1, packet: pkt({ state: BfdState.Up, yourDiscr: s.localDiscr, final: true }) }, ctx);
  assert.equal(f.state.poll, 'idle');
  assert.ok(f.actions.some((a) => a.type === 'poll-done'));
  const t2 = step(f.state, { type: 'tx-timer', now: f.state.nextTxAt! }, ctx);
  assert.equal(sends(t2.actions)[0]!.packet.poll, false);
});

test('raising TX while Up keeps the old rate until the Final (§6.8.3)', () => {
  let s = bringUp(fresh());
  s = step(s, { type: 'rx', now: 20, packet: pkt({ state: BfdState.Up, yourDiscr: s.localDiscr, final: true, desiredMinTx: 100 * MS }) }, ctx).state;
  assert.equal(s.poll, 'idle');
  s = step(s, { type: 'set-timers', now: 30, timers: { desiredMinTx: 300 * MS } }, ctx).state;
  assert.equal(s.desiredMinTx, 300 * MS, 'advertised at once');
  assert.equal(txIntervalUs(s), 100 * MS, 'still sending at 100 ms');
  assert.equal(s.poll, 'active');
  const t = step(s, { type: 'tx-timer', now: s.nextTxAt! }, ctx);
  assert.equal(sends(t.actions)[0]!.packet.desiredMinTx, 300 * MS);
  assert.equal(sends(t.actions)[0]!.packet.poll, true);
  s = step(t.state, { type: 'rx', now: t.state.lastTxAt! + 1, packet: pkt({ state: BfdState.Up, yourDiscr: s.localDiscr, final: true, desiredMinTx: 100 * MS }) }, ctx).state;
  assert.equal(txIntervalUs(s), 300 * MS, 'new rate after the Final');
  assert.ok(s.nextTxAt! - s.lastTxAt! >= 225, 're-timed to the new interval');
});

test('lowering RX while Up keeps the old Detection Time until the Final (§6.8.3)', () => {
  let s = bringUp(fresh({ requiredMinRx: 300 * MS }));
  const up = pkt({ state: BfdState.Up, yourDiscr: s.localDiscr, desiredMinTx: 50 * MS });
  s = step(s, { type: 'rx', now: 20, packet: { ...up, final: true } }, ctx).state;
  assert.equal(detectionTimeMs(s), 900);
  s = step(s, { type: 'set-timers', now: 30, timers: { requiredMinRx: 50 * MS } }, ctx).state;
  assert.equal(s.requiredMinRx, 50 * MS);
  assert.equal(detectionTimeMs(s), 900, 'old RX still used');
  s = step(s, { type: 'rx', now: 40, packet: { ...up, final: true } }, ctx).state;
  assert.equal(detectionTimeMs(s), 150);
  // Raising RX applies at once (the safe direction).
  s = step(s, { type: 'set-timers', now: 50, timers: { requiredMinRx: 500 * MS } }, ctx).state;
  assert.equal(detectionTimeMs(s), 1500);
});

test('a change during a poll waits for a Final-clear packet, then polls again (§6.8.3)', () => {
  let s = bringUp(fresh());
  assert.equal(s.poll, 'active');
  s = step(s, { type: 'set-timers', now: 15, timers: { desiredMinTx: 200 * MS } }, ctx).state;
  assert.equal(s.poll, 'active-dirty');
  const up = pkt({ state: BfdState.Up, yourDiscr: s.localDiscr });
  s = step(s, { type: 'rx', now: 16, packet: { ...up, final: true } }, ctx).state;
  assert.equal(s.poll, 'await-non-final');
  assert.equal(txIntervalUs(s), 100 * MS, 'the raise is not applied on an ambiguous Final');
  s = step(s, { type: 'rx', now: 17, packet: up }, ctx).state;
  assert.equal(s.poll, 'active');
  s = step(s, { type: 'rx', now: 18, packet: { ...up, final: true } }, ctx).state;
  assert.equal(s.poll, 'idle');
  assert.equal(txIntervalUs(s), 200 * MS);
});

test('a reduced RemoteMinRx is honoured at once, a raised one delays the next packet (§6.8.3, §6.8.7)', () => {
  let s = bringUp(fresh({ desiredMinTx: 10 * MS }));
  const up = pkt({ state: BfdState.Up, yourDiscr: s.localDiscr, final: true, requiredMinRx: 1000 * MS });
  s = step(s, { type: 'rx', now: 20, packet: up }, ctx).state;
  s = step(s, { type: 'tx-timer', now: s.nextTxAt! }, ctx).state;
  const last = s.lastTxAt!;
  assert.ok(s.nextTxAt! - last >= 750);
  s = step(s, { type: 'rx', now: last + 5, packet: { ...up, final: false, requiredMinRx: 20 * MS } }, ctx).state;
  assert.ok(s.nextTxAt! - last <= 20 && s.nextTxAt! - last >= 15, `re-timed to 20 ms: ${s.nextTxAt! - last}`);
  s = step(s, { type: 'rx', now: last + 6, packet: { ...up, final: false, requiredMinRx: 2000 * MS } }, ctx).state;
  assert.ok(s.nextTxAt! - last >= 1500, 'never faster than the peer allows');
});

test('never emits P and F together, and only the codec-valid packets (property over a long random run)', () => {
  // A session fed random (valid) peer packets and timer events for a long time keeps every
  // invariant: encodable packets, no P+F, Up ⇒ configured TX advertised, not Up ⇒ ≥ 1 s.
  const random = rng(42);
  let s = fresh();
  let now = 0;
  const states = [BfdState.AdminDown, BfdState.Down, BfdState.Init, BfdState.Up];
  for (let i = 0; i < 20000; i++) {
    now += random() * 200;
    const k = random();
    let ev: BfdEvent;
    if (k < 0.4) {
      const st = states[Math.floor(random() * 4)]!;
      ev = {
        type: 'rx', now, packet: pkt({
          state: st, poll: random() < 0.2, final: random() < 0.2, demand: random() < 0.05,
          yourDiscr: st === BfdState.Down || st === BfdState.AdminDown ? 0 : s.localDiscr,
          requiredMinRx: Math.floor(random() * 3) * 50 * MS, desiredMinTx: (1 + Math.floor(random() * 20)) * 50 * MS,
        }),
      };
    } else if (k < 0.7) ev = { type: 'tx-timer', now: Math.max(now, s.nextTxAt ?? now) };
    else if (k < 0.9) ev = { type: 'detect-timer', now: Math.max(now, s.detectAt ?? now) };
    else if (k < 0.93) ev = { type: 'admin-down', now };
    else if (k < 0.97) ev = { type: 'admin-up', now };
    else ev = { type: 'set-timers', now, timers: { desiredMinTx: (1 + Math.floor(random() * 5)) * 50 * MS, requiredMinRx: (1 + Math.floor(random() * 5)) * 50 * MS } };
    now = ev.now;
    const r = step(s, ev, ctx);
    for (const a of sends(r.actions)) {
      assert.ok(!(a.packet.poll && a.packet.final), 'P and F together');
      const d = decodeControl(encodeControl(a.packet));
      assert.ok(d.ok || (d.reason === 'your-discr-zero-not-down'), `sent an invalid packet: ${JSON.stringify(a.packet)}`);
      if (a.packet.state !== BfdState.Up) assert.ok(a.packet.desiredMinTx >= SLOW_TX_US, 'slow start while not Up');
    }
    s = r.state;
    if (ev.type === 'tx-timer' && s.nextTxAt !== null) assert.ok(s.nextTxAt > now, 'a fired TX timer schedules the next packet later');
  }
});

// ---- two sessions over a simulated link ---------------------------------------------

interface Node {
  s: BfdSessionState;
  log: Array<{ at: number; a: BfdAction }>;
  sendTimes: number[];
}

class Sim {
  now = 0;
  linkUp = true;
  /** When false, node b is "frozen": it neither sends nor processes anything. */
  bAlive = true;
  readonly a: Node;
  readonly b: Node;
  private inflight: Array<{ at: number; to: Node; p: BfdControlPacket }> = [];
  constructor(cfgA: { tx: number; rx: number; mult: number }, cfgB: { tx: number; rx: number; mult: number }, private readonly random = rng(3), private readonly delayMs = 0.2) {
    this.a = { s: createSession({ localDiscr: 0xa, desiredMinTx: cfgA.tx * MS, requiredMinRx: cfgA.rx * MS, detectMult: cfgA.mult }, 0).state, log: [], sendTimes: [] };
    this.b = { s: createSession({ localDiscr: 0xb, desiredMinTx: cfgB.tx * MS, requiredMinRx: cfgB.rx * MS, detectMult: cfgB.mult }, 0.5).state, log: [], sendTimes: [] };
  }
  private apply(n: Node, ev: BfdEvent): void {
    const r = step(n.s, ev, { random: this.random });
    n.s = r.state;
    for (const a of r.actions) {
      n.log.push({ at: this.now, a });
      if (a.type === 'send') {
        if (a.reason === 'periodic') n.sendTimes.push(this.now);
        // Through the real codec, as on the wire.
        const d = decodeControl(encodeControl(a.packet));
        assert.ok(d.ok);
        if (this.linkUp) this.inflight.push({ at: this.now + this.delayMs, to: n === this.a ? this.b : this.a, p: d.packet });
      }
    }
  }
  run(untilMs: number): void {
    for (;;) {
      const cands: Array<[number, () => void]> = [];
      for (const n of [this.a, this.b]) {
        if (n === this.b && !this.bAlive) continue;
        if (n.s.nextTxAt !== null) cands.push([n.s.nextTxAt, () => this.apply(n, { type: 'tx-timer', now: this.now })]);
        if (n.s.detectAt !== null) cands.push([n.s.detectAt, () => this.apply(n, { type: 'detect-timer', now: this.now })]);
      }
      for (const f of this.inflight) {
        if (f.to === this.b && !this.bAlive) continue;
        cands.push([f.at, () => {
          this.inflight.splice(this.inflight.indexOf(f), 1);
          this.apply(f.to, { type: 'rx', now: this.now, packet: f.p });
        }]);
      }
      if (!this.bAlive) this.inflight = this.inflight.filter((f) => f.to !== this.b);
      cands.sort((x, y) => x[0] - y[0]);
      const next = cands[0];
      if (!next || next[0] > untilMs) {
        this.now = untilMs;
        return;
      }
      this.now = Math.max(this.now, next[0]);
      next[1]();
    }
  }
}

function stateChanges(n: Node): Array<[number, string, string, number]> {
  return n.log.filter((l) => l.a.type === 'state-change').map((l) => {
    const c = l.a as Extract<BfdAction, { type: 'state-change' }>;
    return [l.at, BFD_STATE_NAMES[c.from], BFD_STATE_NAMES[c.to], c.diag];
  });
}

test('simulated pair: Up, 100 ms negotiated, one hour with no flap, jitter in bounds', () => {
  const sim = new Sim({ tx: 100, rx: 100, mult: 3 }, { tx: 100, rx: 100, mult: 3 });
  sim.run(5000);
  assert.equal(sim.a.s.sessionState, BfdState.Up);
  assert.equal(sim.b.s.sessionState, BfdState.Up);
  assert.equal(sim.a.s.poll, 'idle');
  assert.equal(txIntervalUs(sim.a.s), 100 * MS);
  assert.equal(detectionTimeMs(sim.a.s), 300);
  const upAt = sim.a.log.find((l) => l.a.type === 'state-change' && l.a.to === BfdState.Up)!.at;
  assert.ok(upAt < 2100, `came Up in ${upAt} ms`);
  const t0 = sim.now;
  sim.run(t0 + 3600_000);
  assert.deepEqual(stateChanges(sim.a).filter((c) => c[0] > upAt), [], 'no flap in an hour');
  const times = sim.a.sendTimes.filter((t) => t > t0 + 1);
  assert.ok(times.length > 36000 && times.length < 48100, `${times.length} packets in an hour`);
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]! - times[i - 1]!;
    assert.ok(gap >= 75 - 1e-9 && gap <= 100 + 1e-9, `gap ${gap}`);
  }
});

test('simulated pair: asymmetric timers negotiate per direction (§6.8.2)', () => {
  const sim = new Sim({ tx: 50, rx: 300, mult: 3 }, { tx: 200, rx: 20, mult: 5 });
  sim.run(10_000);
  assert.equal(sim.a.s.sessionState, BfdState.Up);
  // a sends at max(50, b.rx 20) = 50; b sends at max(200, a.rx 300) = 300.
  assert.equal(txIntervalUs(sim.a.s), 50 * MS);
  assert.equal(txIntervalUs(sim.b.s), 300 * MS);
  // a detects b after b.mult × max(a.rx, b.tx) = 5 × 300; b detects a after 3 × max(20, 50).
  assert.equal(detectionTimeMs(sim.a.s), 1500);
  assert.equal(detectionTimeMs(sim.b.s), 150);
});

test('simulated pair: frozen peer detected within the Detection Time, then recovers', () => {
  for (const [tx, mult] of [[100, 3], [50, 3], [300, 1]] as const) {
    const sim = new Sim({ tx, rx: tx, mult }, { tx, rx: tx, mult }, rng(tx * 7 + mult));
    sim.run(5000);
    assert.equal(sim.a.s.sessionState, BfdState.Up);
    const freezeAt = sim.now;
    const lastRx = sim.a.s.lastRxAt!;
    sim.bAlive = false;
    sim.run(freezeAt + 10 * tx * mult);
    const down = stateChanges(sim.a).at(-1)!;
    assert.deepEqual(down.slice(1), ['Up', 'Down', BfdDiag.ControlDetectionTimeExpired]);
    assert.ok(down[0] - lastRx <= tx * mult + 1e-9 && down[0] - lastRx >= tx * mult - 1e-9, `detected ${down[0] - lastRx} ms after the last packet`);
    sim.bAlive = true;
    sim.run(sim.now + 10_000);
    assert.equal(sim.a.s.sessionState, BfdState.Up, 'comes back Up');
    assert.equal(sim.b.s.sessionState, BfdState.Up);
  }
});

test('simulated pair: one side AdminDown → the other Down with diag 3, then both Up again', () => {
  const sim = new Sim({ tx: 100, rx: 100, mult: 3 }, { tx: 100, rx: 100, mult: 3 });
  sim.run(5000);
  (sim as unknown as { apply(n: Node, ev: BfdEvent): void }).apply(sim.b, { type: 'admin-down', now: sim.now });
  sim.run(sim.now + 2000);
  assert.equal(sim.b.s.sessionState, BfdState.AdminDown);
  assert.equal(sim.a.s.sessionState, BfdState.Down);
  assert.equal(sim.a.s.localDiag, BfdDiag.NeighborSignaledSessionDown);
  assert.equal(sim.a.s.remoteSessionState, BfdState.AdminDown);
  (sim as unknown as { apply(n: Node, ev: BfdEvent): void }).apply(sim.b, { type: 'admin-up', now: sim.now });
  sim.run(sim.now + 5000);
  assert.equal(sim.a.s.sessionState, BfdState.Up);
  assert.equal(sim.b.s.sessionState, BfdState.Up);
});

test('simulated pair: timer change by poll while Up; the peer follows', () => {
  const sim = new Sim({ tx: 100, rx: 100, mult: 3 }, { tx: 100, rx: 100, mult: 3 });
  sim.run(5000);
  (sim as unknown as { apply(n: Node, ev: BfdEvent): void }).apply(sim.a, { type: 'set-timers', now: sim.now, timers: { desiredMinTx: 250 * MS, requiredMinRx: 400 * MS } });
  sim.run(sim.now + 3000);
  assert.equal(sim.a.s.poll, 'idle');
  assert.equal(txIntervalUs(sim.a.s), 250 * MS);
  assert.equal(txIntervalUs(sim.b.s), 400 * MS, 'b slows down to a’s new RX');
  assert.equal(detectionTimeMs(sim.b.s), 750, 'b: 3 × a’s new TX');
  assert.ok(stateChanges(sim.a).every((c) => c[2] !== 'Down'), 'no flap during the change');
});
