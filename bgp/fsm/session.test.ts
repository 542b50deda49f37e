// Unit tests of the session shell (session.ts) with a fake clock and fake sockets: hours
// of timers run in milliseconds, the test plays the peer. Active and passive set-up,
// keepalives and hold-timer expiry, automatic restart with back-off, collision detection
// both ways (§6.8), the graceful-restart takeover, bad input (header error, UPDATE errors
// per RFC 7606), stop with a shutdown communication, backpressure, jitter, counters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message, OpenMessage, UpdateMessage } from '../codec/index.js';
import { shutdownData, toHex } from '../codec/index.js';
import { Session, jitterMs, type ConnectOptions, type SessionDownInfo, type SessionOptions } from './session.js';
import { buildOpen, type CapabilityConfig, type Negotiated } from './negotiate.js';
import { FakeClock, FakeSocket } from './testing/fakes.js';

const KEEPALIVE: Message = { type: 'KEEPALIVE' };

function peerOpen(o: { as?: number; id?: string; hold?: number; caps?: CapabilityConfig } = {}): OpenMessage {
  return buildOpen({ localAs: o.as ?? 65001, routerId: o.id ?? '192.0.2.1', holdTime: o.hold ?? 9, capabilities: o.caps });
}

function setup(opts: Partial<SessionOptions> = {}, random = () => 1) {
  const clock = new FakeClock();
  const sockets: FakeSocket[] = [];
  const connects: ConnectOptions[] = [];
  const session = new Session(
    { peerAddress: '192.0.2.1', localAs: 65010, routerId: '192.0.2.10', peerAs: 65001, holdTime: 9, connectRetryTime: 5, idleHoldTime: 1, idleHoldMaxTime: 8, stableTime: 60, ...opts },
    {
      clock,
      random,
      connect: (o) => {
        connects.push(o);
        const s = new FakeSocket();
        sockets.push(s);
        return s;
      },
    },
  );
  const changes: string[] = [];
  const downs: Array<{ reason: string; info: SessionDownInfo }> = [];
  const ups: Negotiated[] = [];
  const updates: Array<{ msg: UpdateMessage; error?: unknown }> = [];
  session.on('stateChange', (from, to) => changes.push(`${from}>${to}`));
  session.on('down', (reason, info) => downs.push({ reason, info }));
  session.on('established', (n) => ups.push(n));
  session.on('update', (msg, error) => updates.push({ msg, error }));
  const last = () => sockets[sockets.length - 1]!;
  return { clock, sockets, connects, session, changes, downs, ups, updates, last };
}

/** Brings an active session to Established over the latest outgoing socket. */
function bringUp(t: ReturnType<typeof setup>, open = peerOpen()): FakeSocket {
  t.session.start();
  const s = t.last();
  s.connected();
  s.feed(open);
  s.feed(KEEPALIVE);
  assert.equal(t.session.state, 'Established');
  return s;
}

test('active: connect → OPEN → OpenConfirm → Established; 3 hours of keepalives; silent peer → Hold Timer Expired → restart (fake clock)', () => {
  const t = setup({ localAddress: '192.0.2.10', localPort: 0 });
  t.session.start();
  assert.equal(t.session.state, 'Connect');
  assert.deepEqual(t.connects, [{ host: '192.0.2.1', port: 179, localAddress: '192.0.2.10', localPort: 0 }]);
  const s = t.last();
  s.connected();
  assert.equal(t.session.state, 'OpenSent');
  const ours = s.messages()[0] as OpenMessage;
  assert.deepEqual([ours.type, ours.myAs, ours.holdTime, ours.bgpIdentifier], ['OPEN', 65010, 9, '192.0.2.10']);
  s.feed(peerOpen());
  assert.equal(t.session.state, 'OpenConfirm');
  assert.deepEqual(s.types(), ['OPEN', 'KEEPALIVE']);
  s.feed(KEEPALIVE);
  assert.equal(t.session.state, 'Established');
  assert.deepEqual(t.changes, ['Idle>Connect', 'Connect>OpenSent', 'OpenSent>OpenConfirm', 'OpenConfirm>Established']);
  assert.equal(t.ups.length, 1);
  assert.deepEqual([t.ups[0]!.holdTime, t.ups[0]!.keepaliveTime], [9, 3]);

  // Three hours: the peer keeps the session alive; we send a KEEPALIVE every 3 s (jitter factor 1).
  for (let i = 0; i < 3600; i++) {
    s.feed(KEEPALIVE);
    t.clock.advance(3000);
  }
  assert.equal(t.session.state, 'Established');
  const info = t.session.info();
  assert.equal(info.messages.out.keepalive, 3601);
  assert.equal(info.messages.in.keepalive, 3601);
  assert.equal(info.uptime, 10800);

  // The peer goes silent: 9 s after its last message we send Hold Timer Expired and drop.
  t.clock.advance(6000);
  assert.equal(t.session.state, 'Idle');
  assert.equal(s.types().at(-1), 'NOTIFICATION 4/0');
  assert.equal(s.ended, true);
  assert.equal(t.downs.length, 1);
  assert.match(t.downs[0]!.reason, /hold timer expired/);
  assert.deepEqual([t.downs[0]!.info.notification?.direction, t.downs[0]!.info.notification?.code], ['sent', 4]);
  assert.equal(t.session.lastError?.name, 'Hold Timer Expired');
  assert.equal(t.session.info().flaps, 1);
  // The unanswered close is destroyed after the close timeout; IdleHold (1 s) then restarts us.
  t.clock.advance(1000);
  assert.equal(t.session.state, 'Connect');
  assert.equal(t.connects.length, 2);
  t.clock.advance(1000);
  assert.equal(s.destroyed, true);
});

test('passive: waits in Active, accepts the speaker-handed socket; an Idle session refuses', () => {
  const t = setup({ passive: true });
  const early = new FakeSocket();
  assert.equal(t.session.accept(early), false, 'Idle refuses incoming connections');
  assert.equal(early.destroyed, true);
  t.session.start();
  assert.equal(t.session.state, 'Active');
  t.clock.advance(60_000);
  assert.equal(t.connects.length, 0, 'a passive session never connects');
  assert.equal(t.session.state, 'Active');
  const s = new FakeSocket();
  assert.equal(t.session.accept(s), true);
  assert.equal(t.session.state, 'OpenSent');
  s.feed(peerOpen());
  s.feed(KEEPALIVE);
  assert.equal(t.session.state, 'Established');
  const info = t.session.info();
  assert.deepEqual(info.remote, { address: '192.0.2.1', port: 40000 });
  assert.equal(info.peerAs, 65001);
  assert.deepEqual(info.messages.in, { open: 1, update: 0, notification: 0, keepalive: 1, routeRefresh: 0, total: 2 });
  assert.deepEqual(info.messages.out, { open: 1, update: 0, notification: 0, keepalive: 1, routeRefresh: 0, total: 2 });
});

test('an incoming connection while our connect is pending replaces it (Connect state)', () => {
  const t = setup();
  t.session.start();
  const pending = t.last();
  const incoming = new FakeSocket();
  assert.equal(t.session.accept(incoming), true);
  assert.equal(pending.destroyed, true);
  assert.equal(t.session.state, 'OpenSent');
  pending.connected(); // too late: ignored
  assert.deepEqual(incoming.types(), ['OPEN']);
  assert.deepEqual(pending.written, []);
});

test('collision (§6.8), local identifier higher: our outgoing connection stays, the incoming one gets Cease/7', () => {
  const t = setup({ routerId: '192.0.2.20' });
  t.session.start();
  const out = t.last();
  out.connected();
  const inc = new FakeSocket();
  assert.equal(t.session.accept(inc), true, 'tracked as a second connection');
  assert.deepEqual(inc.types(), ['OPEN']);
  inc.feed(peerOpen({ id: '192.0.2.1' }));
  assert.deepEqual(inc.types(), ['OPEN', 'NOTIFICATION 6/7']);
  assert.equal(inc.ended, true);
  assert.equal(t.session.state, 'OpenSent');
  out.feed(peerOpen({ id: '192.0.2.1' }));
  out.feed(KEEPALIVE);
  assert.equal(t.session.state, 'Established');
  assert.equal(t.downs.length, 0);
  assert.deepEqual(t.session.info().local, { address: '192.0.2.10', port: 179 });
});

test('collision (§6.8), local identifier lower: the peer\'s connection stays, ours gets Cease/7', () => {
  const t = setup({ routerId: '192.0.2.10' });
  t.session.start();
  const out = t.last();
  out.connected();
  out.feed(peerOpen({ id: '192.0.2.200' }));
  assert.equal(t.session.state, 'OpenConfirm');
  const inc = new FakeSocket();
  t.session.accept(inc);
  inc.feed(peerOpen({ id: '192.0.2.200' }));
  assert.deepEqual(out.types(), ['OPEN', 'KEEPALIVE', 'NOTIFICATION 6/7']);
  assert.equal(t.session.state, 'OpenConfirm');
  assert.deepEqual(inc.types(), ['OPEN', 'KEEPALIVE']);
  // Messages still arriving on the dumped connection are ignored.
  out.feed(KEEPALIVE);
  assert.equal(t.session.state, 'OpenConfirm');
  inc.feed(KEEPALIVE);
  assert.equal(t.session.state, 'Established');
  // The session's record shows the switch to the other connection.
  assert.deepEqual(t.changes, ['Idle>Connect', 'Connect>OpenSent', 'OpenSent>OpenConfirm', 'OpenConfirm>OpenSent', 'OpenSent>OpenConfirm', 'OpenConfirm>Established']);
  assert.match(t.session.history[3]!.reason, /collision: kept the incoming connection/);
  // The surviving connection keeps its own timers: hold timer runs on it.
  t.clock.advance(9000);
  assert.equal(inc.types().at(-1), 'NOTIFICATION 4/0');
  // Taking the peer's connection did not make the session passive: the automatic restart connects.
  const connects = t.connects.length;
  t.clock.advance(2000);
  assert.equal(t.session.state, 'Connect');
  assert.equal(t.connects.length, connects + 1);
});

test('collision with an Established session: the new connection is closed with Cease/7', () => {
  const t = setup();
  bringUp(t);
  const inc = new FakeSocket();
  assert.equal(t.session.accept(inc), false);
  assert.deepEqual(inc.types(), ['NOTIFICATION 6/7']);
  assert.equal(t.session.state, 'Established');
});

test('a second connection still opening when the first reaches Established is dumped with Cease/7 (§6.8)', () => {
  const t = setup({ routerId: '192.0.2.10' });
  t.session.start();
  const out = t.last();
  out.connected();
  out.feed(peerOpen({ id: '192.0.2.200' }));
  const inc = new FakeSocket();
  assert.equal(t.session.accept(inc), true);
  out.feed(KEEPALIVE);
  assert.equal(t.session.state, 'Established');
  inc.feed(peerOpen({ id: '192.0.2.200' }));
  assert.deepEqual(inc.types(), ['OPEN', 'NOTIFICATION 6/7']);
  assert.equal(t.session.state, 'Established');
  assert.equal(t.downs.length, 0);
  assert.equal(out.ended, false);
});

test('graceful restart (RFC 4724 §4.2): the restarting peer\'s new connection replaces the Established one, routes kept stale', () => {
  const gr: CapabilityConfig = { gracefulRestart: { restartTime: 120 } };
  const t = setup({ capabilities: gr });
  const old = bringUp(t, peerOpen({ caps: gr }));
  const inc = new FakeSocket();
  assert.equal(t.session.accept(inc), true);
  inc.feed(peerOpen({ caps: { gracefulRestart: { restartTime: 120, restarting: true } } }));
  assert.equal(t.downs.length, 1);
  assert.equal(t.downs[0]!.info.gracefulRestart, true);
  assert.deepEqual(t.downs[0]!.info.negotiated?.gracefulRestart?.families, [{ family: 'ipv4-unicast', forwarding: false }]);
  assert.equal(old.ended, true, 'the old connection is closed');
  assert.equal(t.session.state, 'OpenConfirm');
  inc.feed(KEEPALIVE);
  assert.equal(t.session.state, 'Established');
  assert.equal(t.ups.length, 2);
  assert.equal(t.ups[1]!.gracefulRestart?.restarting, true);
});

test('garbage from the peer: Message Header Error 1/1, session to Idle, nothing thrown', () => {
  const t = setup({ passive: true });
  t.session.start();
  const s = new FakeSocket();
  t.session.accept(s);
  s.feed(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  assert.deepEqual(s.types(), ['OPEN', 'NOTIFICATION 1/1']);
  assert.equal(t.session.state, 'Idle');
  assert.equal(t.session.lastError?.direction, 'sent');
  // Bad length and bad type, on new connections.
  t.clock.advance(1000);
  const s2 = new FakeSocket();
  t.session.accept(s2);
  s2.feed(Buffer.from('ffffffffffffffffffffffffffffffff000504', 'hex'));
  assert.deepEqual(s2.types(), ['OPEN', 'NOTIFICATION 1/2']);
  assert.equal(s2.messages()[1]!.type === 'NOTIFICATION' && (s2.messages()[1] as { data: string }).data, '0005');
  t.clock.advance(2000);
  const s3 = new FakeSocket();
  t.session.accept(s3);
  s3.feed(Buffer.from('ffffffffffffffffffffffffffffffff001309', 'hex'));
  assert.deepEqual(s3.types(), ['OPEN', 'NOTIFICATION 1/3']);
  // An OPEN with version 3: 2/1 with the version we speak.
  t.clock.advance(4000);
  const s4 = new FakeSocket();
  t.session.accept(s4);
  const v3 = Buffer.from(s4.written.length === 1 ? s4.written[0]! : Buffer.alloc(0));
  v3[19] = 3;
  s4.feed(v3);
  assert.deepEqual(s4.types(), ['OPEN', 'NOTIFICATION 2/1']);
});

test('UPDATE errors (RFC 7606): treat-as-withdraw reaches the RIB with the error; a session-reset error sends 3/x and drops', () => {
  const t = setup();
  const s = bringUp(t);
  const good: UpdateMessage = {
    type: 'UPDATE', withdrawn: [], nlri: [{ prefix: '198.51.100.0/24' }],
    attributes: [{ type: 'ORIGIN', value: 'IGP' }, { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [65001] }] }, { type: 'NEXT_HOP', value: '192.0.2.1' }],
  };
  s.feed(good);
  assert.equal(t.updates.length, 1);
  assert.equal(t.updates[0]!.error, undefined);
  // ORIGIN value 5: header, withdrawn 0, attributes (ORIGIN=5, empty AS_PATH, NEXT_HOP), NLRI 198.51.100.0/24.
  const body = '0000' + '000e' + '40010105' + '400200' + '400304c0000201' + '18c63364';
  const len = (19 + body.length / 2).toString(16).padStart(4, '0');
  s.feed(Buffer.from('ff'.repeat(16) + len + '02' + body, 'hex'));
  assert.equal(t.updates.length, 2);
  const e = t.updates[1]!.error as { action: string; code: number; subcode: number };
  assert.deepEqual([e.action, e.code, e.subcode], ['treat-as-withdraw', 3, 6]);
  assert.equal(t.session.state, 'Established');
  // Withdrawn length beyond the message: malformed attribute list → NOTIFICATION 3/1, down.
  s.feed(Buffer.from('ff'.repeat(16) + '0017' + '02' + 'ffff0000', 'hex'));
  assert.equal(t.session.state, 'Idle');
  assert.equal(s.types().at(-1), 'NOTIFICATION 3/1');
  assert.equal(t.updates.length, 2);
  assert.equal(t.downs[0]!.info.gracefulRestart, false);
});

test('stop() sends Cease/Administrative Shutdown with the RFC 8203 text and resolves once closed; stop({6,1}) for max-prefix', async () => {
  const t = setup();
  const s = bringUp(t);
  const done = t.session.stop({ message: 'maintenance window 42' });
  const n = s.messages().at(-1)!;
  assert.ok(n.type === 'NOTIFICATION');
  assert.deepEqual([n.code, n.subcode, n.shutdownMessage], [6, 2, 'maintenance window 42']);
  assert.equal(t.session.state, 'Idle');
  assert.match(t.downs[0]!.reason, /"maintenance window 42"/);
  let resolved = false;
  void done.then(() => (resolved = true));
  await Promise.resolve();
  assert.equal(resolved, false, 'waits for the socket to close');
  s.peerClose();
  await done;
  // Stays down: no automatic restart after a manual stop.
  t.clock.advance(3_600_000);
  assert.equal(t.connects.length, 1);

  const t2 = setup();
  const s2 = bringUp(t2);
  const p = t2.session.stop({ code: 6, subcode: 1, restart: true });
  assert.equal(s2.types().at(-1), 'NOTIFICATION 6/1');
  t2.clock.advance(2000); // unanswered close: destroyed after the timeout
  await p;
  t2.clock.advance(1000);
  assert.equal(t2.connects.length, 2, 'restart: true restarts after IdleHold');
});

test('a NOTIFICATION from the peer (shutdown communication) ends the session with its text', () => {
  const t = setup();
  const s = bringUp(t);
  s.feed({ type: 'NOTIFICATION', code: 6, subcode: 2, data: toHex(shutdownData('TOR upgrade, back at 10:00')) });
  assert.equal(t.session.state, 'Idle');
  assert.deepEqual(t.downs[0]!.info.notification?.shutdownMessage, 'TOR upgrade, back at 10:00');
  assert.equal(t.downs[0]!.info.notification?.direction, 'received');
  assert.match(t.downs[0]!.reason, /TOR upgrade, back at 10:00/);
  assert.equal(t.session.lastError?.shutdownMessage, 'TOR upgrade, back at 10:00');
  assert.equal(s.types().filter((x) => x.startsWith('NOTIFICATION')).length, 0, 'no NOTIFICATION in answer to one');
});

test('send() with backpressure: false when the socket buffer is full, `writable` resolves on drain; UPDATEs postpone keepalives', async () => {
  const t = setup();
  const s = bringUp(t);
  assert.throws(() => new Session({ peerAddress: 'x', localAs: 1, routerId: '192.0.2.1', holdTime: 2 }), /hold time/);
  const u: UpdateMessage = { type: 'UPDATE', withdrawn: [{ prefix: '198.51.100.0/24' }], attributes: [], nlri: [] };
  assert.equal(t.session.send(u), true);
  await t.session.writable;
  s.writeOk = false;
  assert.equal(t.session.send(u), false);
  let drained = false;
  void t.session.writable.then(() => (drained = true));
  await Promise.resolve();
  assert.equal(drained, false);
  s.emit('drain');
  await Promise.resolve();
  assert.equal(drained, true);
  s.writeOk = true;
  // An UPDATE sent 2 s into the keepalive interval pushes the next KEEPALIVE 3 s past it.
  const before = t.session.info().messages.out.keepalive;
  t.clock.advance(2000);
  t.session.send(u);
  t.clock.advance(1500);
  assert.equal(t.session.info().messages.out.keepalive, before);
  t.clock.advance(1500);
  assert.equal(t.session.info().messages.out.keepalive, before + 1);
  assert.equal(t.session.info().messages.out.update, 3);
  // Pre-encoded bytes are accepted too.
  t.session.send(Buffer.from(s.written[s.written.length - 2]!));
  assert.equal(t.session.info().messages.out.update, 4);
  t.session.stop();
  assert.throws(() => t.session.send(u), /not Established/);
});

test('jitter (RFC 4271 §10): timers run 0.75–1.0 of their value from the injected random source', () => {
  assert.equal(jitterMs(30, true, () => 0), 22500);
  assert.equal(jitterMs(30, true, () => 1), 30000);
  assert.equal(jitterMs(30, false, () => 0), 30000);
  const t = setup({}, () => 0);
  const s = bringUp(t);
  const k = t.session.info().messages.out.keepalive;
  t.clock.advance(2249);
  assert.equal(t.session.info().messages.out.keepalive, k);
  t.clock.advance(1);
  assert.equal(t.session.info().messages.out.keepalive, k + 1);
  // Hold timer has no jitter: 9 s exactly after the last message.
  s.feed(KEEPALIVE);
  t.clock.advance(8999);
  assert.equal(t.session.state, 'Established');
  t.clock.advance(1);
  assert.equal(t.session.state, 'Idle');
});

test('connect failures: refused → Idle → IdleHold retry; a hanging SYN is abandoned at ConnectRetry; back-off grows on flaps only', () => {
  const t = setup({ idleHoldTime: 2, idleHoldMaxTime: 16 });
  t.session.start();
  t.last().peerClose(new Error('connect ECONNREFUSED 192.0.2.1:179'));
  assert.equal(t.session.state, 'Idle');
  assert.match(t.session.history.at(-1)!.reason, /ECONNREFUSED/);
  t.clock.advance(2000);
  assert.equal(t.connects.length, 2);
  // No answer at all: ConnectRetry (5 s) drops the attempt and connects again.
  const hanging = t.last();
  t.clock.advance(5000);
  assert.equal(hanging.destroyed, true);
  assert.equal(t.connects.length, 3);
  assert.equal(t.session.state, 'Connect');
  // Flaps after OPEN: IdleHold 2, 4, 8, 16, 16 s.
  const gaps: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = t.last();
    s.connected();
    s.feed(peerOpen());
    s.feed(KEEPALIVE);
    s.peerClose();
    assert.equal(t.session.state, 'Idle');
    gaps.push(t.clock.pending.at(-1)!);
    t.clock.advance(t.clock.pending.at(-1)!);
    assert.equal(t.session.state, 'Connect');
  }
  assert.deepEqual(gaps, [2000, 4000, 8000, 16000, 16000]);
  assert.equal(t.session.info().flaps, 5);
  // Stable for stableTime resets it.
  const s = t.last();
  s.connected();
  s.feed(peerOpen({ hold: 0 }));
  s.feed(KEEPALIVE);
  t.clock.advance(60_000);
  s.peerClose();
  assert.equal(t.clock.pending.at(-1), 2000);
});

test('a listener that throws does not break the session; a peer OPEN with a wrong AS gets 2/2', () => {
  const t = setup();
  t.session.on('established', () => {
    throw new Error('RIB bug');
  });
  const s = bringUp(t);
  s.feed(KEEPALIVE);
  assert.equal(t.session.state, 'Established');
  const t2 = setup();
  t2.session.start();
  const s2 = t2.last();
  s2.connected();
  s2.feed(peerOpen({ as: 65099 }));
  assert.deepEqual(s2.types(), ['OPEN', 'NOTIFICATION 2/2']);
  assert.match(t2.session.history.at(-1)!.reason, /Bad Peer AS/);
});

test('dispose() drops everything at once and reports the session down', () => {
  const t = setup();
  const s = bringUp(t);
  t.session.dispose();
  assert.equal(t.session.state, 'Idle');
  assert.equal(s.destroyed, true);
  assert.deepEqual(t.downs.map((d) => d.reason), ['disposed']);
  assert.deepEqual(t.clock.pending, [], 'no timer left');
  assert.equal(t.changes.at(-1), 'Established>Idle');
});

test('DelayOpen through the shell: OPEN waits, the peer\'s OPEN triggers ours', () => {
  const t = setup({ delayOpenTime: 3 });
  t.session.start();
  const s = t.last();
  s.connected();
  assert.deepEqual(s.types(), []);
  assert.equal(t.session.state, 'Connect');
  s.feed(peerOpen());
  assert.deepEqual(s.types(), ['OPEN', 'KEEPALIVE']);
  assert.equal(t.session.state, 'OpenConfirm');
  const t2 = setup({ delayOpenTime: 3 });
  t2.session.start();
  t2.last().connected();
  t2.clock.advance(3000);
  assert.deepEqual(t2.last().types(), ['OPEN']);
  assert.equal(t2.session.state, 'OpenSent');
});

test('ROUTE-REFRESH reaches the RIB for a negotiated family; add-path context switches after OPEN', () => {
  const caps: CapabilityConfig = { families: ['ipv4-unicast', 'ipv6-unicast'], addPath: { 'ipv4-unicast': 'both' } };
  const t = setup({ capabilities: caps });
  const refreshes: string[] = [];
  t.session.on('routeRefresh', (m) => refreshes.push(`${m.family}/${m.subtype}`));
  const s = bringUp(t, peerOpen({ caps }));
  s.feed({ type: 'ROUTE-REFRESH', family: 'ipv6-unicast', subtype: 0 });
  s.feed({ type: 'ROUTE-REFRESH', family: 'l2vpn-evpn', subtype: 0 });
  assert.deepEqual(refreshes, ['ipv6-unicast/0']);
  assert.equal(t.session.state, 'Established');
  const ctx = t.session.sendContext!;
  assert.deepEqual([...ctx.addPath], ['ipv4-unicast']);
  // The peer sends an add-path UPDATE: decoded with the path ID.
  s.feed({ type: 'UPDATE', withdrawn: [{ prefix: '198.51.100.0/24', pathId: 7 }], attributes: [], nlri: [] }, ctx);
  assert.deepEqual(t.updates[0]!.msg.withdrawn.map((p) => ({ prefix: (p as { prefix: string }).prefix, pathId: p.pathId })), [{ prefix: '198.51.100.0/24', pathId: 7 }]);
});

test('RFC 8538: with the N bit on both sides, Cease 1–4 go out as Hard Reset (peer drops routes, we drop theirs); a Hard Reset received carries its shutdown text', async () => {
  const gr: CapabilityConfig = { families: ['ipv4-unicast'], gracefulRestart: { restartTime: 120, notification: true, families: [{ family: 'ipv4-unicast', forwarding: true }] } };
  const t = setup({ capabilities: gr });
  const s = bringUp(t, peerOpen({ caps: gr }));
  void t.session.stop({ message: 'maintenance' });
  const n = s.messages().at(-1)!;
  assert.ok(n.type === 'NOTIFICATION');
  assert.deepEqual([n.code, n.subcode, n.data], [6, 9, '06020b6d61696e74656e616e6365'], 'Hard Reset around Cease/2 and its text');
  assert.equal(n.shutdownMessage, 'maintenance', 'the codec reads the text inside the Hard Reset');
  assert.equal(t.downs[0]!.info.gracefulRestart, false, 'no stale routes after a Hard Reset');
  assert.equal(t.session.lastError?.shutdownMessage, 'maintenance');

  // BFD down (Cease/10) stays graceful; hardReset: false keeps a bare Cease.
  for (const [stop, want, graceful] of [[{ code: 6, subcode: 10, restart: true }, 'NOTIFICATION 6/10', true], [{ code: 6, subcode: 1, hardReset: false }, 'NOTIFICATION 6/1', true], [{ code: 6, subcode: 1 }, 'NOTIFICATION 6/9', false]] as const) {
    const t2 = setup({ capabilities: gr });
    const s2 = bringUp(t2, peerOpen({ caps: gr }));
    void t2.session.stop(stop);
    assert.equal(s2.types().at(-1), want);
    assert.equal(t2.downs[0]!.info.gracefulRestart, graceful, want);
  }
  // Without the N bit on the peer's side: bare Cease/2.
  const t3 = setup({ capabilities: gr });
  const s3 = bringUp(t3, peerOpen({ caps: { families: ['ipv4-unicast'], gracefulRestart: { restartTime: 120 } } }));
  void t3.session.stop({ message: 'x' });
  assert.equal(s3.types().at(-1), 'NOTIFICATION 6/2');

  // Received: FRR's `neighbor X shutdown message M` with the N bit (bytes as captured from FRR 8.4).
  const t4 = setup({ capabilities: gr });
  const s4 = bringUp(t4, peerOpen({ caps: gr }));
  s4.feed({ type: 'NOTIFICATION', code: 6, subcode: 9, data: '060209' + Buffer.from('efp maint').toString('hex') });
  assert.equal(t4.session.lastError?.shutdownMessage, 'efp maint');
  assert.equal(t4.downs[0]!.info.gracefulRestart, false);
});

test('a connection that dies while its send buffer is full releases the writer waiting on `writable`', async () => {
  const t = setup();
  const s = bringUp(t);
  s.writeOk = false;
  assert.equal(t.session.send({ type: 'UPDATE', withdrawn: [{ prefix: '198.51.100.0/24' }], attributes: [], nlri: [] }), false);
  let released = false;
  void t.session.writable.then(() => (released = true));
  await Promise.resolve();
  assert.equal(released, false, 'still full');
  s.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  s.emit('close', true);
  await new Promise((r) => setImmediate(r));
  assert.equal(released, true, 'the waiter is released when the socket closes');
  assert.notEqual(t.session.state, 'Established');
});
