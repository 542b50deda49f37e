// Starting the lab's daemons inside their namespaces, each detached with its own log in
// the run dir, and waiting until each is usable:
//   FRR   zebra first, then bgpd/staticd/bfdd with -N <instance>, config copied to
//         /etc/frr/<instance>/frr.conf (owned by frr) and loaded with vtysh -N <instance> -b
//   BIRD  bird -f -c CONF -s SOCK, ready when birdc answers on SOCK
//   etcd  ready when `etcdctl endpoint health` passes from inside its namespace
//   agent `node bin/edgeflow.js agent --config …`, ready when its API port listens
import { chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseFrrDaemons, type DaemonSpec, type FrrDaemon } from './plan.js';
import { nsh, pidAlive, sh, spawnDetached, tailFile, waitUntil } from './shell.js';
import type { LabProcess } from './state.js';

export const FRR_BIN = '/usr/lib/frr';

export interface StartContext {
  runDir: string;
  /** Called as soon as a process exists, before waiting on it, so a failed start is still torn down. */
  record(p: LabProcess): void;
  warn(msg: string): void;
  log(msg: string): void;
}

function nodeDir(ctx: StartContext, node: string): string {
  const d = join(ctx.runDir, 'nodes', node);
  mkdirSync(d, { recursive: true });
  return d;
}

async function launch(ctx: StartContext, spec: DaemonSpec, name: string, argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<LabProcess> {
  const log = join(nodeDir(ctx, spec.node), `${name}.log`);
  writeFileSync(log, `# ${new Date().toISOString()} ip netns exec ${spec.ns} ${argv.join(' ')}\n`, { flag: 'a' });
  const { pid, startTime } = await spawnDetached(spec.ns, argv, { logFile: log, env: opts.env, cwd: opts.cwd });
  const p: LabProcess = { node: spec.node, ns: spec.ns, name, pid, startTime, log, argv };
  ctx.record(p);
  return p;
}

function mustLive(p: LabProcess): void {
  if (!pidAlive(p.pid, p.startTime)) throw new Error(`${p.name} on ${p.node} exited; its log (${p.log}) ends with:\n${tailFile(p.log)}`);
}

function frrIds(): { uid: number; gid: number } {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('frr:'));
    if (line) {
      const f = line.split(':');
      return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch { /* fall through */ }
  return { uid: 0, gid: 0 };
}

export const frrEtcDir = (instance: string): string => `/etc/frr/${instance}`;
export const frrRunDir = (instance: string): string => `/var/run/frr/${instance}`;

export function removeFrrInstance(instance: string): void {
  rmSync(frrEtcDir(instance), { recursive: true, force: true });
  rmSync(frrRunDir(instance), { recursive: true, force: true });
}

async function startFrr(ctx: StartContext, spec: Extract<DaemonSpec, { type: 'frr' }>): Promise<void> {
  const etc = frrEtcDir(spec.instance);
  const run = frrRunDir(spec.instance);
  removeFrrInstance(spec.instance);
  mkdirSync(etc, { recursive: true });
  mkdirSync(run, { recursive: true });
  copyFileSync(spec.config, join(etc, 'frr.conf'));
  writeFileSync(join(etc, 'vtysh.conf'), '');
  const ids = frrIds();
  for (const p of [etc, join(etc, 'frr.conf'), join(etc, 'vtysh.conf'), run]) chownSync(p, ids.uid, ids.gid);
  let daemons: FrrDaemon[] = ['zebra', 'bgpd', 'bfdd'];
  if (spec.daemonsFile) {
    const parsed = parseFrrDaemons(readFileSync(spec.daemonsFile, 'utf8'));
    daemons = parsed.daemons;
    if (parsed.ignored.length) ctx.warn(`${spec.node}: FRR daemons not started by the netns runner: ${parsed.ignored.join(', ')}`);
  }
  const profile = /^\s*frr defaults (\w+)/m.exec(readFileSync(spec.config, 'utf8'))?.[1] ?? 'traditional';
  for (const d of daemons) {
    const p = await launch(ctx, spec, d, [join(FRR_BIN, d), '-N', spec.instance, '-F', profile, '-A', '127.0.0.1', '--log', 'stdout']);
    await waitUntil(`${d} of ${spec.node} (vty socket in ${run})`, () => {
      mustLive(p);
      return existsSync(join(run, `${d}.vty`)) && (d !== 'zebra' || existsSync(join(run, 'zserv.api')));
    }, 10000, 20);
  }
  try {
    await sh(['vtysh', '-N', spec.instance, '-b']);
  } catch (err) {
    throw new Error(`loading ${spec.config} into FRR instance ${spec.instance} failed: ${(err as Error).message}`);
  }
  ctx.log(`  ${spec.node}: FRR (${daemons.join(', ')}) as instance ${spec.instance}, config ${etc}/frr.conf`);
}

export const birdSocket = (runDir: string, node: string): string => join(runDir, 'nodes', node, 'bird.ctl');

async function startBird(ctx: StartContext, spec: Extract<DaemonSpec, { type: 'bird' }>): Promise<string> {
  const sock = birdSocket(ctx.runDir, spec.node);
  rmSync(sock, { force: true });
  nodeDir(ctx, spec.node);
  const p = await launch(ctx, spec, 'bird', ['bird', '-f', '-c', spec.config, '-s', sock]);
  await waitUntil(`BIRD of ${spec.node} (socket ${sock})`, async () => {
    mustLive(p);
    return existsSync(sock) && (await sh(['birdc', '-s', sock, 'show', 'status'])).includes('Daemon is up');
  }, 10000, 50);
  ctx.log(`  ${spec.node}: BIRD, socket ${sock}`);
  return sock;
}

async function startEtcd(ctx: StartContext, spec: Extract<DaemonSpec, { type: 'etcd' }>): Promise<void> {
  rmSync(spec.dataDir, { recursive: true, force: true });
  mkdirSync(spec.dataDir, { recursive: true, mode: 0o700 });
  const p = await launch(ctx, spec, 'etcd', spec.argv);
  await waitUntil(`etcd on ${spec.node} (${spec.clientUrl})`, async () => {
    mustLive(p);
    await nsh(spec.ns, ['etcdctl', '--endpoints', spec.clientUrl, '--dial-timeout', '1s', 'endpoint', 'health'], { env: { ...process.env, ETCDCTL_API: '3' }, timeoutMs: 3000 });
    return true;
  }, 20000, 100);
  ctx.log(`  ${spec.node}: etcd at ${spec.clientUrl}, data in ${spec.dataDir}`);
}

/** The API port an agent config names (api.port), if it can be read. */
export function agentApiPort(configFile: string | undefined): number | undefined {
  if (!configFile || !existsSync(configFile)) return undefined;
  try {
    const c = parseYaml(readFileSync(configFile, 'utf8')) as { api?: { port?: unknown } };
    return typeof c.api?.port === 'number' ? c.api.port : undefined;
  } catch {
    return undefined;
  }
}

async function startAgent(ctx: StartContext, spec: Extract<DaemonSpec, { type: 'agent' }>): Promise<void> {
  const p = await launch(ctx, spec, 'agent', spec.argv, { env: { ...process.env, ...spec.env }, cwd: spec.cwd });
  const port = agentApiPort(spec.configFile);
  if (port === undefined) {
    await new Promise((r) => setTimeout(r, 1000));
    mustLive(p);
    ctx.warn(`${spec.node}: no api.port in ${spec.configFile ?? '(no --config)'}; the agent runs (pid ${p.pid}) but readiness was not checked`);
    return;
  }
  try {
    await waitUntil(`agent on ${spec.node} (API port ${port})`, async () => {
      mustLive(p);
      return (await nsh(spec.ns, ['ss', '-Hltn', `sport = :${port}`])).trim() !== '';
    }, 20000, 100);
  } catch (err) {
    if (!pidAlive(p.pid, p.startTime)) throw err;
    ctx.warn(`${spec.node}: the agent (pid ${p.pid}) runs but its API did not listen on ${port} within 20 s; log ${p.log}`);
    return;
  }
  ctx.log(`  ${spec.node}: edgeflow agent (pid ${p.pid}), API on port ${port}, log ${p.log}`);
}

/** Starts one daemon; returns the BIRD socket for BIRD nodes. */
export async function startDaemon(ctx: StartContext, spec: DaemonSpec): Promise<string | undefined> {
  switch (spec.type) {
    case 'frr':
      await startFrr(ctx, spec);
      return undefined;
    case 'bird':
      return startBird(ctx, spec);
    case 'etcd':
      await startEtcd(ctx, spec);
      return undefined;
    case 'agent':
      await startAgent(ctx, spec);
      return undefined;
  }
}
