// Interop helper: starts test/fsm/child.ts (our sessions) inside a namespace and talks to it
// over JSON lines; `waitEvent` resolves on the first matching event, past or future.
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Lab } from '../harness/netns.js';
import type { SessionOptions, StopOptions } from '../../bgp/fsm/index.js';

export interface FsmEvent {
  ev: 'ready' | 'state' | 'established' | 'down' | 'update' | 'accept' | 'collision' | 'error';
  peer?: string;
  [k: string]: any;
}

export interface FsmChild {
  readonly pid: number;
  readonly events: FsmEvent[];
  listen(port?: number): Promise<void>;
  add(options: SessionOptions): Promise<void>;
  start(peer: string): Promise<void>;
  stop(peer: string, stop?: StopOptions): Promise<void>;
  info(peer: string): Promise<any>;
  ping(): Promise<{ pid: number; sessions: string[] }>;
  waitEvent(what: string, pred: (e: FsmEvent) => boolean, timeoutMs?: number, from?: number): Promise<FsmEvent>;
  alive(): boolean;
  output(): string;
}

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

export async function startFsmChild(lab: Lab, ns: string): Promise<FsmChild> {
  const child = lab.spawn(ns, process.execPath, ['--enable-source-maps', CHILD]);
  if (child.pid === undefined) throw new Error('could not start the session child');
  lab.trackPid(child.pid);
  const events: FsmEvent[] = [];
  const waiters: Array<{ pred: (e: FsmEvent) => boolean; from: number; resolve: (e: FsmEvent) => void }> = [];
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let stderr = '';
  let nextId = 1;
  let exited = false;
  child.stderr?.on('data', (b) => (stderr += String(b)));
  child.on('exit', () => {
    exited = true;
    for (const p of pending.values()) p.reject(new Error(`session child exited: ${stderr}`));
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let m: any;
    try {
      m = JSON.parse(line);
    } catch {
      stderr += line + '\n';
      return;
    }
    if (m.id !== undefined) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.ok) p?.resolve(m.result);
      else p?.reject(new Error(m.error));
      return;
    }
    events.push(m);
    for (const w of [...waiters]) {
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  const call = (cmd: string, args: Record<string, unknown> = {}): Promise<any> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.stdin!.write(JSON.stringify({ id, cmd, ...args }) + '\n');
    });
  const waitEvent = (what: string, pred: (e: FsmEvent) => boolean, timeoutMs = 15000, from = 0): Promise<FsmEvent> => {
    const seen = events.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, from, resolve };
      waiters.push(w);
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; events: ${JSON.stringify(events.slice(-20))}\n${stderr}`));
      }, timeoutMs);
      const done = w.resolve;
      w.resolve = (e) => {
        clearTimeout(t);
        done(e);
      };
    });
  };
  const h: FsmChild = {
    pid: child.pid,
    events,
    listen: (port = 179) => call('listen', { port }),
    add: (options) => call('add', { options }),
    start: (peer) => call('start', { peer }),
    stop: (peer, stop) => call('stop', { peer, stop }),
    info: (peer) => call('info', { peer }),
    ping: () => call('ping'),
    waitEvent,
    alive: () => !exited && child.exitCode === null,
    output: () => stderr,
  };
  await waitEvent('child ready', (e) => e.ev === 'ready', 10000);
  return h;
}
