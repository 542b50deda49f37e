// Test/bench helper: starts our BFD (test/bfd/child.ts) inside a namespace and talks to it
// over JSON lines; builds FRR bfdd and BIRD BFD configs; reads FRR's `show bfd peers`.
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Lab } from '../harness/netns.js';
import type { FrrHandle } from '../harness/frr.js';
import type { BfdPeerConfig, BfdSnapshot, BfdTimersMs } from '../../bgp/bfd/index.js';

export interface ChildEvent {
  ev: 'up' | 'down' | 'state' | 'ready' | 'error';
  mono: number;
  peer?: string;
  from?: string;
  to?: string;
  diag?: number;
  diagName?: string;
  remoteAdminDown?: boolean;
  remoteState?: string;
}

export interface BfdChild {
  readonly pid: number;
  readonly events: ChildEvent[];
  add(cfg: BfdPeerConfig): Promise<number>;
  addMany(cfgs: BfdPeerConfig[]): Promise<number>;
  remove(peer: string): Promise<void>;
  setTimers(peer: string, timers: Partial<BfdTimersMs>): Promise<void>;
  snapshot(): Promise<BfdSnapshot[]>;
  drops(): Promise<Record<string, number>>;
  cpu(): Promise<{ user: number; system: number; mono: number }>;
  /** Resolves with the first event (already seen at index ≥ `from`, or future) matching `pred`. */
  waitEvent(pred: (e: ChildEvent) => boolean, timeoutMs?: number, from?: number): Promise<ChildEvent>;
  output(): string;
  exit(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

/** CLOCK_MONOTONIC in ms, comparable with the child's `mono`. */
export const mono = (): number => Number(process.hrtime.bigint()) / 1e6;

/** `nodeArgs` e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/x'] to profile the child. */
export async function startBfdChild(lab: Lab, ns: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<BfdChild> {
  const child: ChildProcess = lab.spawn(ns, 'env', [...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, '--enable-source-maps', ...nodeArgs, CHILD]);
  if (child.pid === undefined) throw new Error('could not start the BFD child');
  lab.trackPid(child.pid);
  const events: ChildEvent[] = [];
  const waiters: Array<{ pred: (e: ChildEvent) => boolean; from: number; resolve: (e: ChildEvent) => void }> = [];
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let stderr = '';
  let nextId = 1;
  child.stderr?.on('data', (b) => (stderr += String(b)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let m: { id?: number; ok?: boolean; result?: unknown; error?: string } & Partial<ChildEvent>;
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
    const e = m as ChildEvent;
    events.push(e);
    for (const w of [...waiters]) {
      if (w.pred(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  });
  const call = <T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.stdin!.write(JSON.stringify({ id, cmd, ...args }) + '\n');
    });
  const waitEvent = (pred: (e: ChildEvent) => boolean, timeoutMs = 15000, from = events.length): Promise<ChildEvent> => {
    const seen = events.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, from, resolve: (e: ChildEvent) => { clearTimeout(t); resolve(e); } };
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`BFD child: event not seen within ${timeoutMs} ms; events: ${JSON.stringify(events.slice(-10))}\n${stderr}`));
      }, timeoutMs);
      waiters.push(w);
    });
  };
  await waitEvent((e) => e.ev === 'ready', 10000, 0);
  return {
    pid: child.pid,
    events,
    add: (cfg) => call('add', { cfg }),
    addMany: (cfgs) => call('addMany', { cfgs }),
    remove: (peer) => call('remove', { peer }),
    setTimers: (peer, timers) => call('setTimers', { peer, timers }),
    snapshot: () => call('snapshot'),
    drops: () => call('drops'),
    cpu: () => call('cpu'),
    waitEvent,
    output: () => stderr,
    exit: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.stdin?.end();
      await Promise.race([gone, new Promise((r) => setTimeout(r, 2000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export interface FrrBfdPeer {
  peer: string;
  local?: string;
  status: string;
  diagnostic: string;
  'remote-diagnostic': string;
  id: number;
  'remote-id': number;
  'receive-interval': number;
  'transmit-interval': number;
  'detect-multiplier': number;
  'remote-receive-interval': number;
  'remote-transmit-interval': number;
  'remote-detect-multiplier': number;
}

export async function frrBfdPeer(frr: FrrHandle, peer: string): Promise<FrrBfdPeer | undefined> {
  const list = await frr.vtyshJson<FrrBfdPeer[]>('show bfd peers json');
  return list.find((p) => p.peer === peer);
}

/** An integrated frr.conf with only a `bfd` block: one profile, single-hop peers. */
export function frrBfdConfig(o: { hostname: string; peers: Array<{ peer: string; local: string }>; rx: number; tx: number; mult: number; logFile?: string }): string {
  const L = ['frr defaults datacenter', `hostname ${o.hostname}`];
  if (o.logFile) L.push(`log file ${o.logFile} debugging`, 'log timestamp precision 6', 'debug bfd peer');
  else L.push('log stdout warnings');
  L.push('bfd', ' profile fast', `  receive-interval ${o.rx}`, `  transmit-interval ${o.tx}`, `  detect-multiplier ${o.mult}`, ' !');
  for (const p of o.peers) L.push(` peer ${p.peer} local-address ${p.local}`, '  profile fast', ' !');
  L.push('!', '');
  return L.join('\n');
}
