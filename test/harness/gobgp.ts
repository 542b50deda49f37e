// Test harness: one GoBGP (gobgpd 3.x) instance inside a network namespace, for interop tests.
// Runs `gobgpd -f CONF.toml --api-hosts 127.0.0.1:PORT` in the foreground (each namespace has
// its own loopback, so the default port never collides); `gobgp(args)` runs the CLI inside the
// namespace against that API. `stop()` kills by pid and removes the temp dir (lab.onCleanup).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nsRun, waitFor, type Lab } from './netns.js';

export interface GobgpHandle {
  readonly ns: string;
  readonly dir: string;
  readonly pid: number | undefined;
  /** Runs `gobgp ARGS` inside the namespace against this daemon; returns stdout. */
  gobgp(args: string[]): Promise<string>;
  /** Runs `gobgp ARGS -j` and parses the JSON. */
  gobgpJson<T = any>(args: string[]): Promise<T>;
  log(): string;
  stop(): Promise<void>;
}

/** True when gobgpd and gobgp are installed. */
export function haveGobgp(): boolean {
  return ['/usr/bin/gobgpd', '/usr/bin/gobgp'].every((p) => existsSync(p));
}

/** Starts gobgpd in `ns` with a TOML config and waits until its API answers. */
export async function startGobgp(lab: Lab, ns: string, tomlConfig: string, opts: { apiPort?: number } = {}): Promise<GobgpHandle> {
  const port = opts.apiPort ?? 50051;
  const dir = mkdtempSync(join(tmpdir(), `gobgp-${ns}-`));
  const conf = join(dir, 'gobgpd.toml');
  writeFileSync(conf, tomlConfig);
  let output = '';
  let stopped = false;
  const child = lab.spawn(ns, 'gobgpd', ['-f', conf, '-t', 'toml', '--api-hosts', `127.0.0.1:${port}`, '-l', 'warn']);
  if (child.pid !== undefined) lab.trackPid(child.pid);
  const keep = (b: unknown): void => {
    output += String(b);
    if (output.length > 64 * 1024) output = output.slice(-64 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const deadline = Date.now() + 3000;
      while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  lab.onCleanup(stop);

  const gobgp = (args: string[]): Promise<string> => nsRun(ns, 'gobgp', ['-u', '127.0.0.1', '-p', String(port), ...args]);
  await waitFor('gobgpd API', async () => {
    if (child.exitCode !== null) throw new Error(`gobgpd exited ${child.exitCode}: ${output}`);
    return (await gobgp(['global'])).includes('AS:');
  }, 10000, 100);
  return {
    ns,
    dir,
    pid: child.pid,
    gobgp,
    async gobgpJson(args: string[]) {
      const out = await gobgp([...args, '-j']);
      return JSON.parse(out);
    },
    log: () => output,
    stop,
  };
}

export interface GobgpNeighbor {
  address: string;
  peerAs: number;
  /** AFI-SAFI names as GoBGP spells them: 'ipv4-unicast', 'ipv6-unicast', 'l3vpn-ipv4-unicast', 'l2vpn-evpn'… Default: ['ipv4-unicast']. */
  families?: string[];
  /** Families on which to send and receive multiple paths (RFC 7911). */
  addPath?: string[];
  passive?: boolean;
  /** Graceful restart (RFC 4724) on every family; GoBGP then also sends End-of-RIB markers. */
  gracefulRestart?: boolean;
}

/** Builds a gobgpd TOML config. */
export function gobgpConfig(c: { asn: number; routerId: string; neighbors: GobgpNeighbor[]; listenPort?: number }): string {
  const L = ['[global.config]', `  as = ${c.asn}`, `  router-id = "${c.routerId}"`];
  if (c.listenPort !== undefined) L.push(`  port = ${c.listenPort}`);
  for (const n of c.neighbors) {
    L.push('', '[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${n.address}"`, `    peer-as = ${n.peerAs}`);
    L.push('  [neighbors.timers.config]', '    connect-retry = 1', '    hold-time = 9', '    keepalive-interval = 3');
    if (n.passive) L.push('  [neighbors.transport.config]', '    passive-mode = true');
    if (n.gracefulRestart) L.push('  [neighbors.graceful-restart.config]', '    enabled = true', '    restart-time = 120');
    for (const f of n.families ?? ['ipv4-unicast']) {
      L.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "${f}"`);
      if (n.gracefulRestart) L.push('    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
      if (n.addPath?.includes(f)) {
        L.push('    [neighbors.afi-safis.add-paths.config]', '      receive = true', '      send-max = 8');
      }
    }
  }
  return L.join('\n') + '\n';
}
