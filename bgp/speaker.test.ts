// The Speaker as a restarting speaker (RFC 4724 §4.1), against a scripted peer on
// 127.0.0.1 (no root): the first OPEN after a restart carries the Restart State bit and
// forwarding-preserved flags, later OPENs do not; our routes and End-of-RIB wait for the
// peer's End-of-RIB, unless the peer is restarting itself (R set in its OPEN).
// The peer decides when it sends End-of-RIB, so a speaker that does not wait is caught
// by what arrives first, not by a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { decodeMessage, encodeMessage, Framer, KEEPALIVE, type Capability, type Message, type OpenMessage } from './codec/index.js';
import { buildOpen } from './fsm/index.js';
import { parseSpeakerConfig } from './config.js';
import { Speaker } from './speaker.js';

const EOR = Buffer.from([...new Array(16).fill(0xff), 0, 23, 2, 0, 0, 0, 0]);

interface ScriptedPeer {
  port: number;
  /** Messages received on each accepted connection, in order. */
  conns: Message[][];
  sockets: net.Socket[];
  next(): Promise<number>;
  close(): Promise<void>;
}

/** A TCP listener that answers each connection with OPEN (GR capability, `restarting` as given) and KEEPALIVE. */
async function scriptedPeer(restarting: boolean): Promise<ScriptedPeer> {
  const conns: Message[][] = [];
  const sockets: net.Socket[] = [];
  const waiters: Array<(i: number) => void> = [];
  const server = net.createServer((s) => {
    const i = conns.length;
    const got: Message[] = [];
    conns.push(got);
    sockets.push(s);
    const framer = new Framer();
    s.on('data', (chunk) => framer.push(chunk, (m) => {
      const d = decodeMessage(m);
      if (d.ok) got.push(d.message);
    }));
    s.on('error', () => undefined);
    const open = buildOpen({ localAs: 65001, routerId: '192.0.2.99', holdTime: 90, capabilities: { families: ['ipv4-unicast'], gracefulRestart: { restartTime: 120, restarting, notification: true } } });
    s.write(encodeMessage(open));
    s.write(KEEPALIVE);
    waiters.shift()?.(i);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port, conns, sockets,
    next: () => new Promise((r) => waiters.push(r)),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

function grCapability(m: Message | undefined): Extract<Capability, { type: 'graceful-restart' }> {
  assert.equal(m?.type, 'OPEN');
  const caps = (m as OpenMessage).parameters.flatMap((p) => (p.type === 'capabilities' ? p.capabilities : []));
  const gr = caps.find((c) => c.type === 'graceful-restart');
  assert.ok(gr, 'graceful-restart capability in our OPEN');
  return gr as Extract<Capability, { type: 'graceful-restart' }>;
}

const until = async (what: string, f: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(f(), what);
};

function speakerFor(port: number, restarting: boolean | undefined): Speaker {
  const cfg = parseSpeakerConfig({
    asn: 65020, routerId: '192.0.2.20', listen: { port: 0 },
    neighbors: [{ address: '127.0.0.1', port, asn: 65001, connectRetry: 1, idleHoldTime: 0, gracefulRestart: 60 }],
    routes: [{ prefix: '198.51.100.7/32' }, { prefix: '198.51.100.8/32' }],
    ...(restarting === undefined ? {} : { gracefulRestart: { restarting } }),
  });
  return new Speaker(cfg);
}

const updates = (ms: Message[]) => ms.filter((m) => m.type === 'UPDATE');
const isEor = (m: Message) => m.type === 'UPDATE' && m.nlri.length === 0 && m.withdrawn.length === 0 && m.attributes.length === 0;

test('restarting speaker: R and F set in the first OPEN; routes and End-of-RIB only after the peer\'s End-of-RIB; R clear in the next OPEN', { timeout: 20000 }, async () => {
  const peer = await scriptedPeer(false);
  const sp = speakerFor(peer.port, true);
  try {
    const first = peer.next();
    await sp.start();
    const c = await first;
    await until('Established', () => sp.neighbor('127.0.0.1')?.state === 'Established');
    const gr = grCapability(peer.conns[c]![0]);
    assert.equal(gr.restarting, true, 'Restart State bit in the first OPEN after the restart');
    assert.deepEqual(gr.families, [{ family: 'ipv4-unicast', forwarding: true }]);
    // the peer has not sent End-of-RIB: we hold our routes (a keepalive round trip shows our side is past Established)
    await until('our KEEPALIVE', () => peer.conns[c]!.some((m) => m.type === 'KEEPALIVE'));
    await sp.settle(200);
    assert.deepEqual(updates(peer.conns[c]!), [], 'nothing sent before the peer\'s End-of-RIB');
    assert.equal(sp.table.exportHeld, true);
    peer.sockets[c]!.write(EOR);
    await until('our routes and End-of-RIB', () => updates(peer.conns[c]!).some(isEor));
    const ups = updates(peer.conns[c]!);
    assert.deepEqual(ups.flatMap((u) => (u.type === 'UPDATE' ? u.nlri.map((n) => (n as { prefix: string }).prefix) : [])).sort(), ['198.51.100.7/32', '198.51.100.8/32']);
    assert.ok(isEor(ups[ups.length - 1]!), 'End-of-RIB last');

    // the session drops (no NOTIFICATION): the next OPEN is not after a restart of ours
    const second = peer.next();
    peer.sockets[c]!.destroy();
    const c2 = await second;
    await until('second OPEN', () => peer.conns[c2]!.length > 0);
    assert.equal(grCapability(peer.conns[c2]![0]).restarting, false);
    // and nothing is held any more: our routes come without waiting for End-of-RIB
    await until('routes on the second session', () => updates(peer.conns[c2]!).some(isEor));
  } finally {
    await sp.stop();
    await peer.close();
  }
});

test('restarting speaker: a peer restarting itself (R set) is not waited for; a plain start sets no R', { timeout: 20000 }, async () => {
  const peer = await scriptedPeer(true);
  const sp = speakerFor(peer.port, true);
  try {
    const first = peer.next();
    await sp.start();
    const c = await first;
    assert.equal(grCapability(await (async () => { await until('OPEN', () => peer.conns[c]!.length > 0); return peer.conns[c]![0]; })()).restarting, true);
    await until('our routes and End-of-RIB without the peer\'s', () => updates(peer.conns[c]!).some(isEor));
  } finally {
    await sp.stop();
    await peer.close();
  }
  const peer2 = await scriptedPeer(false);
  const plain = speakerFor(peer2.port, undefined);
  try {
    const first = peer2.next();
    await plain.start();
    const c = await first;
    await until('OPEN', () => peer2.conns[c]!.length > 0);
    assert.equal(grCapability(peer2.conns[c]![0]).restarting, false, 'no R bit on a plain start');
    await until('our routes without waiting', () => updates(peer2.conns[c]!).some(isEor));
  } finally {
    await plain.stop();
    await peer2.close();
  }
});

test('config: gracefulRestart { restarting, selectionDeferral } is checked', () => {
  const base = { asn: 65020, routerId: '192.0.2.20' };
  assert.deepEqual(parseSpeakerConfig({ ...base, gracefulRestart: { restarting: true } }).gracefulRestart, { restarting: true, selectionDeferral: 360 });
  assert.equal(parseSpeakerConfig(base).gracefulRestart, undefined);
  assert.throws(() => parseSpeakerConfig({ ...base, gracefulRestart: { restarting: true, deferral: 5 } }), /gracefulRestart\.deferral/);
  assert.throws(() => parseSpeakerConfig({ ...base, gracefulRestart: { selectionDeferral: 0 } }), /selectionDeferral/);
});
