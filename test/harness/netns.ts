// Test harness: network namespaces, veth links and processes started inside them.
// Everything created here is remembered and removed by `cleanup()` — namespaces by
// name, processes by pid — so a failed test never leaves a lab behind.
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** True when we can create namespaces (root on Linux). Tests that need it skip with a reason otherwise. */
export function canUseNetns(): boolean {
  return process.platform === 'linux' && typeof process.getuid === 'function' && process.getuid() === 0;
}
export const NETNS_SKIP = canUseNetns() ? false : 'needs root to create network namespaces';

/** Runs a command and returns stdout; rejects with stderr in the message on a non-zero exit. */
export async function run(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean } = {}): Promise<string> {
  try {
    if (opts.input !== undefined) return await runWithInput(cmd, args, opts.input);
    const { stdout } = await execFileP(cmd, args, { maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    if (opts.allowFail) return '';
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

function runWithInput(cmd: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err.trim()}`))));
    child.stdin.end(input);
  });
}

/** Runs a command inside namespace `ns`. */
export function nsRun(ns: string, cmd: string, args: string[], opts: { input?: string; allowFail?: boolean } = {}): Promise<string> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** A set of namespaces and processes owned by one test; `cleanup()` removes them all. */
export class Lab {
  readonly namespaces: string[] = [];
  readonly children: ChildProcess[] = [];
  readonly pids: number[] = [];
  private readonly cleanups: Array<() => Promise<void> | void> = [];

  /** Creates namespace `name` (deleting a stale one of the same name first) with lo up. */
  async ns(name: string): Promise<string> {
    await run('ip', ['netns', 'del', name], { allowFail: true });
    await run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await nsRun(name, 'ip', ['link', 'set', 'lo', 'up']);
    return name;
  }

  /** Joins two namespaces with a veth pair; addresses are CIDR strings (optional). */
  async link(a: string, aIf: string, aAddr: string | string[] | undefined, b: string, bIf: string, bAddr: string | string[] | undefined): Promise<void> {
    const tmpA = `v${process.pid % 10000}${Math.floor(Math.random() * 1e6)}`.slice(0, 15);
    const tmpB = `w${process.pid % 10000}${Math.floor(Math.random() * 1e6)}`.slice(0, 15);
    await run('ip', ['link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
    await run('ip', ['link', 'set', tmpA, 'netns', a, 'name', aIf]);
    await run('ip', ['link', 'set', tmpB, 'netns', b, 'name', bIf]);
    for (const [ns, ifn, addr] of [[a, aIf, aAddr], [b, bIf, bAddr]] as const) {
      for (const ad of addr === undefined ? [] : Array.isArray(addr) ? addr : [addr]) {
        await nsRun(ns, 'ip', ['addr', 'add', ad, 'dev', ifn, ...(ad.includes(':') ? ['nodad'] : [])]);
      }
      await nsRun(ns, 'ip', ['link', 'set', ifn, 'up']);
    }
  }

  /** Spawns a long-running process inside `ns` and tracks it for cleanup. */
  spawn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: 'pipe', ...opts });
    this.children.push(child);
    return child;
  }

  /** Tracks a pid (e.g. read from a daemon's pid file) so cleanup kills it. */
  trackPid(pid: number): void {
    this.pids.push(pid);
  }

  /** Registers extra cleanup work (run in reverse order before namespaces go). */
  onCleanup(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  async cleanup(): Promise<void> {
    for (const fn of this.cleanups.reverse()) {
      try { await fn(); } catch { /* keep cleaning */ }
    }
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    for (const pid of this.pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    // Any process still inside our namespaces (started by a daemon we spawned) goes too.
    for (const ns of this.namespaces) {
      const pids = (await run('ip', ['netns', 'pids', ns], { allowFail: true })).split(/\s+/).filter(Boolean);
      for (const p of pids) {
        try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
      }
    }
    await new Promise((r) => setTimeout(r, 100));
    for (const ns of this.namespaces) await run('ip', ['netns', 'del', ns], { allowFail: true });
    this.namespaces.length = 0;
  }
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns the value or throws with `what`. */
export async function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 30000, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
