// Test harness: real etcd servers (Debian etcd-server, /usr/bin/etcd) on loopback,
// one or a 3-member cluster, each with its own temp data dir. Started processes are
// stopped by pid (SIGTERM, then SIGKILL) and their temp dirs removed; kill() and
// start() simulate a crash and a restart on the same data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ETCD_BIN = '/usr/bin/etcd';
/** False when etcd can run here; otherwise the reason a test skips. */
export const ETCD_SKIP: false | string = existsSync(ETCD_BIN) ? false : `needs ${ETCD_BIN} (Debian package etcd-server)`;

export interface EtcdMemberSpec {
  name: string;
  clientPort: number;
  peerPort: number;
}

export class EtcdMember {
  readonly endpoint: string;
  readonly dataDir: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Last stderr lines, for failure messages. */
  log = '';

  constructor(readonly spec: EtcdMemberSpec, private readonly initialCluster: string, private readonly token: string, private readonly tuning: string[]) {
    this.endpoint = `http://127.0.0.1:${spec.clientPort}`;
    this.dataDir = mkdtempSync(join(tmpdir(), `edgeflow-etcd-${spec.name}-`));
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts (or restarts, on the same data dir) and returns without waiting for health. */
  spawn(): void {
    if (this.running) return;
    const { name, clientPort, peerPort } = this.spec;
    const peer = `http://127.0.0.1:${peerPort}`;
    const child = spawn(ETCD_BIN, [
      '--name', name,
      '--data-dir', this.dataDir,
      '--listen-client-urls', this.endpoint,
      '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', this.initialCluster,
      '--initial-cluster-token', this.token,
      '--initial-cluster-state', 'new',
      '--logger', 'zap',
      '--log-level', 'warn',
      ...this.tuning,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => {
      this.log = (this.log + d.toString()).slice(-8192);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child = child;
  }

  /** Crash: SIGKILL by pid, data dir kept. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', 5000);
  }

  /** Clean stop: SIGTERM, SIGKILL after 3 s; data dir kept. */
  async stopProcess(): Promise<void> {
    await this.signal('SIGTERM', 3000);
    if (this.running) await this.signal('SIGKILL', 5000);
  }

  private async signal(sig: NodeJS.Signals, waitMs: number): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, sig);
    } catch {
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  /** True when GET /health says so (needs a leader). */
  async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      return body.health === 'true';
    } catch {
      return false;
    }
  }

  async waitHealthy(timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.healthy())) {
      if (!this.running) throw new Error(`etcd ${this.spec.name} exited: ${this.log.trim().split('\n').slice(-3).join(' | ')}`);
      if (Date.now() > deadline) throw new Error(`etcd ${this.spec.name} not healthy after ${timeoutMs} ms: ${this.log.trim().split('\n').slice(-3).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Member id and leader id, from the gRPC gateway's maintenance/status. */
  async status(): Promise<{ memberId: string; leader: string }> {
    const res = await fetch(`${this.endpoint}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
    const b = (await res.json()) as { header: { member_id: string }; leader: string };
    return { memberId: b.header.member_id, leader: b.leader };
  }

  /** Kills the process (nothing to keep) and removes the data dir. */
  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Flags that make elections fast on loopback (tests lose members on purpose). */
const FAST = ['--heartbeat-interval', '50', '--election-timeout', '500'];

/** One etcd on loopback; `await etcd.destroy()` in after(). */
export async function startEtcd(opts: { clientPort: number; peerPort: number; name?: string }): Promise<EtcdMember> {
  const name = opts.name ?? `ef${opts.clientPort}`;
  const m = new EtcdMember({ name, clientPort: opts.clientPort, peerPort: opts.peerPort }, `${name}=http://127.0.0.1:${opts.peerPort}`, `edgeflow-${process.pid}-${name}`, FAST);
  m.spawn();
  try {
    await m.waitHealthy();
  } catch (err) {
    await m.destroy();
    throw err;
  }
  return m;
}

export class EtcdCluster {
  constructor(readonly members: EtcdMember[]) {}

  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint);
  }

  /** Index of the current leader among the running members. */
  async leaderIndex(): Promise<number> {
    for (const m of this.members) {
      if (!m.running) continue;
      try {
        const s = await m.status();
        const i = (await Promise.all(this.members.map((x) => (x.running ? x.status().then((t) => t.memberId, () => '') : '')))).indexOf(s.leader);
        if (i >= 0) return i;
      } catch { /* try the next member */ }
    }
    throw new Error('no leader found');
  }

  async destroy(): Promise<void> {
    await Promise.all(this.members.map((m) => m.destroy()));
  }
}

/** A cluster of `clientPorts.length` members on loopback, healthy on return. */
export async function startEtcdCluster(opts: { clientPorts: number[]; peerPorts: number[] }): Promise<EtcdCluster> {
  const specs = opts.clientPorts.map((c, i) => ({ name: `ef${c}`, clientPort: c, peerPort: opts.peerPorts[i]! }));
  const initial = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',');
  const token = `edgeflow-${process.pid}-${opts.clientPorts.join('-')}`;
  const cluster = new EtcdCluster(specs.map((s) => new EtcdMember(s, initial, token, FAST)));
  for (const m of cluster.members) m.spawn();
  try {
    await Promise.all(cluster.members.map((m) => m.waitHealthy(20000)));
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
  return cluster;
}
