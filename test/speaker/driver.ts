// Interop helper: runs `edgeflow speaker --config FILE` inside a network namespace (the
// real command, as users run it) and gives tests its REST API from the root namespace
// through test/speaker/apiproxy.ts (a Unix socket forwarded to the API port in the
// namespace). `restart()` stops with a signal and starts the same config again;
// `ctl()` runs `edgeflow ctl` inside the namespace. Everything is registered with the Lab.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { stringify } from 'yaml';
import { nsRun, waitFor, type Lab } from '../harness/netns.js';
import type { NeighborView, PathView } from '../../bgp/view.js';

const EDGEFLOW = fileURLToPath(new URL('../../../bin/edgeflow.js', import.meta.url));
const PROXY = fileURLToPath(new URL('./apiproxy.js', import.meta.url));

export interface ApiReply<T = any> {
  status: number;
  body: T;
}

export interface SpeakerProc {
  readonly ns: string;
  readonly configFile: string;
  /** Pid of the running speaker (changes on restart). */
  pid(): number | undefined;
  /** When the current speaker process was spawned (epoch ms). */
  startedAt(): number;
  /** Resolves when the current speaker process has exited; undefined when none runs. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  alive(): boolean;
  /** Speaker output so far (pino JSON lines), for failure messages and log checks. */
  log(): string;
  api<T = any>(method: string, path: string, body?: unknown): Promise<ApiReply<T>>;
  /** GET that throws unless 200. */
  get<T = any>(path: string): Promise<T>;
  neighbor(address: string): Promise<NeighborView>;
  received(address: string, family?: string): Promise<PathView[]>;
  rib(family?: string): Promise<PathView[]>;
  waitState(address: string, state: string, timeoutMs?: number): Promise<NeighborView>;
  /** Sends `signal` and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the speaker (again) with the same config file and waits for its API; `args` are added to the command line (e.g. --graceful-restart). */
  start(args?: string[]): Promise<void>;
  /** The config as last written; `rewrite` replaces the file (used at the next start). */
  config(): Record<string, any>;
  rewrite(config: Record<string, any>): void;
  /** `edgeflow ctl ARGS` inside the namespace against this speaker's API; stdout. */
  ctl(args: string[]): Promise<string>;
}

/**
 * Writes `config` as YAML (the contract's own format) and starts `edgeflow speaker` in `ns`.
 * The API listens on 127.0.0.1:`config.api.port` (default 8179) inside the namespace.
 */
export async function startSpeaker(lab: Lab, ns: string, config: Record<string, any>): Promise<SpeakerProc> {
  const dir = mkdtempSync(join(tmpdir(), `${ns}-`));
  lab.onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'speaker.yaml');
  const apiPort: number = config.api?.port ?? 8179;
  let cfg = { ...config, api: { address: '127.0.0.1', port: apiPort, ...(config.api ?? {}) } };
  writeFileSync(configFile, stringify(cfg));
  const socketPath = join(dir, 'api.sock');

  const proxy = lab.spawn(ns, process.execPath, [PROXY, socketPath, String(apiPort)]);
  if (proxy.pid !== undefined) lab.trackPid(proxy.pid);
  await new Promise<void>((resolve, reject) => {
    proxy.stdout!.once('data', () => resolve());
    proxy.once('exit', (code) => reject(new Error(`API proxy exited ${code}`)));
  });

  let output = '';
  let child: ChildProcess | undefined;
  let spawnedAt = 0;
  let exitP: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

  const api = <T>(method: string, path: string, body?: unknown): Promise<ApiReply<T>> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request({
        socketPath, path, method,
        headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch { /* /metrics is text */ }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(10000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.end(data);
    });

  const get = async <T>(path: string): Promise<T> => {
    const r = await api<T>('GET', path);
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  const start = async (args: string[] = []): Promise<void> => {
    spawnedAt = Date.now();
    const c = lab.spawn(ns, process.execPath, [...(process.env.EFP_SPEAKER_NODE_ARGS ?? '--enable-source-maps').split(' ').filter(Boolean), EDGEFLOW, 'speaker', '--config', configFile, '--log-level', process.env.EFP_SPEAKER_LOG ?? 'info', ...args]);
    child = c;
    if (c.pid !== undefined) lab.trackPid(c.pid);
    const keep = (b: unknown): void => {
      output += String(b);
      if (output.length > 256 * 1024) output = output.slice(-256 * 1024);
    };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    exitP = new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
    await waitFor(`speaker API in ${ns}`, async () => {
      if (c.exitCode !== null) throw new Error(`speaker exited ${c.exitCode}: ${output.slice(-4000)}`);
      return (await api('GET', '/healthz')).status === 200;
    }, 15000, 50);
  };

  const h: SpeakerProc = {
    ns,
    configFile,
    pid: () => child?.pid,
    startedAt: () => spawnedAt,
    exited: () => exitP,
    alive: () => !!child && child.exitCode === null && child.signalCode === null,
    log: () => output,
    api,
    get,
    neighbor: (a) => get<NeighborView>(`/api/v1/bgp/neighbors/${encodeURIComponent(a)}`),
    received: (a, family = 'ipv4-unicast') => get<PathView[]>(`/api/v1/bgp/neighbors/${encodeURIComponent(a)}/received?family=${family}`),
    rib: (family = 'ipv4-unicast') => get<PathView[]>(`/api/v1/bgp/rib?family=${family}`),
    async waitState(address, state, timeoutMs = 20000) {
      let last: NeighborView | undefined;
      try {
        return await waitFor(`neighbor ${address} ${state}`, async () => {
          last = await h.neighbor(address);
          return last.state === state ? last : undefined;
        }, timeoutMs, 100);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nlast view: ${JSON.stringify(last)}\nspeaker log:\n${output.slice(-3000)}`);
      }
    },
    async stop(signal = 'SIGTERM') {
      if (!child || !h.alive()) return;
      child.kill(signal);
      await Promise.race([exitP, new Promise((r) => setTimeout(r, 5000))]);
      if (h.alive()) {
        child.kill('SIGKILL');
        await exitP;
      }
    },
    start,
    config: () => structuredClone(cfg),
    rewrite(c) {
      cfg = { ...c, api: { address: '127.0.0.1', port: apiPort, ...(c.api ?? {}) } };
      writeFileSync(configFile, stringify(cfg));
    },
    ctl: (args) => nsRun(ns, process.execPath, [EDGEFLOW, 'ctl', '--api', `http://127.0.0.1:${apiPort}`, ...args]),
  };
  await start();
  return h;
}

/** FRR's view of one neighbor (`show bgp neighbors ADDR json`), or undefined. */
export async function frrNeighbor(vtyshJson: (cmd: string) => Promise<any>, address: string): Promise<any> {
  return (await vtyshJson(`show bgp neighbors ${address} json`))[address];
}
