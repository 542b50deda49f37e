// Interop helper: runs our BGP sessions (bgp/fsm) inside a network namespace, with a
// listener on port 179 that hands each incoming connection to the session of its source
// address (as the speaker will). Commands arrive as JSON lines on stdin
// ({id, cmd, ...}); answers ({id, ok, result|error}) and events ({ev, peer, ...}) go out
// as JSON lines on stdout. Started by test/fsm/driver.ts with `ip netns exec`.
import * as net from 'node:net';
import { createInterface } from 'node:readline';
import { Session, negotiatedJson, type SessionOptions, type StopOptions } from '../../bgp/fsm/index.js';

const sessions = new Map<string, Session>();
const out = (o: unknown): void => {
  process.stdout.write(JSON.stringify(o, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)) + '\n');
};
const log = {
  debug() {},
  info(obj: object, msg?: string) {
    if (msg === 'connection collision') out({ ev: 'collision', ...obj });
  },
  warn() {},
  error(obj: object, msg?: string) {
    out({ ev: 'error', msg, ...obj });
  },
};

function add(o: SessionOptions): void {
  sessions.get(o.peerAddress)?.dispose();
  const s = new Session(o, { log });
  const peer = o.peerAddress;
  s.on('stateChange', (from, to, reason) => out({ ev: 'state', peer, from, to, reason }));
  s.on('established', (n) => out({ ev: 'established', peer, negotiated: negotiatedJson(n) }));
  s.on('down', (reason, info) => out({ ev: 'down', peer, reason, notification: info.notification, gracefulRestart: info.gracefulRestart }));
  s.on('update', (m, e) => out({ ev: 'update', peer, nlri: m.nlri.length, error: e?.toJSON() }));
  sessions.set(peer, s);
}

const server = net.createServer((socket) => {
  const addr = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const s = sessions.get(addr);
  if (!s) {
    socket.destroy();
    return;
  }
  out({ ev: 'accept', peer: addr, accepted: s.accept(socket) });
});
server.on('error', (err) => out({ ev: 'error', msg: err.message }));

function session(peer: string): Session {
  const s = sessions.get(peer);
  if (!s) throw new Error(`no session for ${peer}`);
  return s;
}

async function handle(m: { cmd: string; [k: string]: unknown }): Promise<unknown> {
  switch (m.cmd) {
    case 'listen':
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: '::', port: (m.port as number) ?? 179 }, () => resolve());
      });
      return true;
    case 'add':
      add(m.options as SessionOptions);
      return true;
    case 'start':
      session(m.peer as string).start();
      return true;
    case 'stop':
      await session(m.peer as string).stop((m.stop ?? {}) as StopOptions);
      return true;
    case 'info': {
      const i = session(m.peer as string).info();
      return { ...i, negotiated: i.negotiated ? negotiatedJson(i.negotiated) : undefined, history: session(m.peer as string).history };
    }
    case 'ping':
      return { pid: process.pid, sessions: [...sessions.keys()] };
    default:
      throw new Error(`unknown command ${m.cmd}`);
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let m: { id: number; cmd: string };
  try {
    m = JSON.parse(line);
  } catch {
    return;
  }
  handle(m).then(
    (result) => out({ id: m.id, ok: true, result }),
    (err: Error) => out({ id: m.id, ok: false, error: err.message }),
  );
});
process.stdin.on('end', () => {
  for (const s of sessions.values()) s.dispose();
  server.close();
  process.exit(0);
});
out({ ev: 'ready', pid: process.pid });
