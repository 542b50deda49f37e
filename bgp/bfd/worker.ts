// The BFD worker thread (RFC 5880/5881): runs one BfdManager (udp.ts) on its own event
// loop for a ThreadedBfdManager (threaded.ts) on the main thread. Commands arrive by
// postMessage and run one at a time in arrival order; state changes go back at once,
// each with the session's snapshot; a snapshot whose negotiated values changed goes back
// within 50 ms, and every session's snapshot every `snapshotIntervalMs`. Nothing here blocks: the point is that this loop keeps its
// transmit and detection timers while the main thread stalls.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { BfdManager, type BfdPeerSession, type BfdStateEvent } from './udp.js';
import type { BfdWorkerCommand, BfdWorkerData, BfdWorkerMessage, StampedSnapshot } from './threaded.js';

if (!parentPort) throw new Error('bgp/bfd/worker.js must run as a worker thread');
const port = parentPort;
const data = workerData as BfdWorkerData;
const manager = new BfdManager({
  ...(data.port !== undefined ? { port: data.port } : {}),
  ...(data.sendOnStateChange !== undefined ? { sendOnStateChange: data.sendOnStateChange } : {}),
});

const post = (m: BfdWorkerMessage): void => port.postMessage(m);
const stamped = (s: BfdPeerSession): StampedSnapshot => ({ snap: s.snapshot(), stamp: performance.timeOrigin + performance.now() });
const errorOf = (err: unknown): { name: string; message: string; code?: string } => {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as NodeJS.ErrnoException).code;
  return { name: e.name, message: e.message, ...(code !== undefined ? { code } : {}) };
};

manager.on('error', (err: Error) => post({ t: 'error', error: errorOf(err) }));

// State changes are batched to the end of the current callback, so the snapshot sent with
// them includes what the session did after emitting (counters of the transition).
let batch: { s: BfdPeerSession; ev: BfdStateEvent }[] = [];
function onState(s: BfdPeerSession, ev: BfdStateEvent): void {
  if (batch.length === 0) queueMicrotask(flush);
  batch.push({ s, ev });
}
function flush(): void {
  const items = batch.map(({ s, ev }) => ({ ev: { ...ev, at: ev.at + performance.timeOrigin }, snap: stamped(s) }));
  batch = [];
  post({ t: 'events', items });
}

// Every snapshotIntervalMs all snapshots go (counters); every WATCH_MS those whose
// protocol view changed without a state change (poll done, remote state, discriminator).
const WATCH_MS = 50;
const lastKey = new WeakMap<BfdPeerSession, string>();
const keyOf = (s: StampedSnapshot): string => {
  const n = s.snap;
  return `${n.state} ${n.remoteState} ${n.remoteDiag} ${n.remoteDiscr} ${n.txInterval} ${n.rxInterval} ${n.remoteMultiplier} ${n.detectionTimeMs}`;
};
let sinceFull = 0;
const timer = setInterval(() => {
  const sessions = manager.sessions();
  sinceFull += WATCH_MS;
  const full = sinceFull >= data.snapshotIntervalMs;
  if (full) sinceFull = 0;
  if (sessions.length === 0) return;
  const items: StampedSnapshot[] = [];
  for (const s of sessions) {
    const snap = stamped(s);
    const key = keyOf(snap);
    if (full || lastKey.get(s) !== key) items.push(snap);
    lastKey.set(s, key);
  }
  if (items.length > 0) post({ t: 'snapshots', items, drops: { ...manager.drops }, rxErrors: manager.rxErrors });
}, Math.min(WATCH_MS, data.snapshotIntervalMs));

async function handle(c: BfdWorkerCommand): Promise<BfdWorkerMessage & { t: 'reply' }> {
  switch (c.cmd) {
    case 'add': {
      const s = await manager.add(c.cfg);
      s.on('state', (ev: BfdStateEvent) => onState(s, ev));
      return { t: 'reply', id: c.id, ok: true, result: { snap: stamped(s), sourcePort: s.sourcePort } };
    }
    case 'remove':
      await manager.remove(c.peer);
      break;
    case 'setTimers':
      manager.setTimers(c.peer, c.timers);
      break;
    case 'adminDown':
    case 'adminUp': {
      const s = manager.get(c.peer);
      if (!s) throw new Error(`bfd: no session with ${c.peer}`);
      if (c.cmd === 'adminDown') s.adminDown(c.diag);
      else s.adminUp();
      break;
    }
    case 'close':
      await manager.close({ silent: c.silent === true });
      clearInterval(timer);
      break;
    default: {
      const never: never = c;
      throw new Error(`unknown BFD worker command ${String(never)}`);
    }
  }
  return { t: 'reply', id: c.id, ok: true };
}

// A bug here must not leave sockets open while the thread ends: Node 20 can abort the
// whole process when a worker is torn down while a UDP socket of it receives (FATAL
// "v8::FromJust Maybe value is Nothing" in UDPWrap::OnRecv, seen here once in ~40
// runs). So an uncaught exception closes every session first (AdminDown tells the
// peers it is not a path failure, RFC 5882 §3.2), then ends the thread.
let dying = false;
process.on('uncaughtException', (err) => {
  post({ t: 'error', error: errorOf(err), fatal: true });
  if (dying) return;
  dying = true;
  clearInterval(timer);
  const exit = (): never => process.exit(1);
  setTimeout(exit, 1000).unref();
  manager.close().then(exit, exit);
});

let queue: Promise<void> = Promise.resolve();
port.on('message', (c: BfdWorkerCommand) => {
  queue = queue.then(async () => {
    let reply: BfdWorkerMessage;
    try {
      reply = await handle(c);
    } catch (err) {
      reply = { t: 'reply', id: c.id, ok: false, error: errorOf(err) };
    }
    // Events the command caused (an AdminDown on remove) go out before its reply.
    if (batch.length > 0) flush();
    post(reply);
  });
});
