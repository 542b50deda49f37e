// The runner's thin I/O shell: run a command (optionally inside a namespace), start a
// detached daemon inside a namespace with its output in a log file, and identify,
// probe and stop processes by pid — checking the pid still names the same process
// (its start time in /proc/PID/stat) so a recycled pid is never killed.
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export class CommandError extends Error {
  constructor(readonly argv: string[], readonly stderr: string, readonly code: number | string | undefined) {
    super(`${argv.join(' ')}: ${stderr.trim() || `exit ${code}`}`);
  }
}

/** Runs argv; resolves stdout, rejects with CommandError (stderr in the message). */
export async function sh(argv: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  try {
    const { stdout } = await execFileP(argv[0]!, argv.slice(1), { maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 30000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; code?: number | string };
    throw new CommandError(argv, e.stderr ?? String(err), e.code);
  }
}

/** Runs argv inside namespace `ns`. */
export function nsh(ns: string, argv: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return sh(['ip', 'netns', 'exec', ns, ...argv], opts);
}

export async function listNamespaces(): Promise<string[]> {
  const out = await sh(['ip', '-json', 'netns', 'list']).catch(() => '');
  if (!out.trim()) return [];
  return (JSON.parse(out) as Array<{ name: string }>).map((x) => x.name);
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or undefined when it is gone. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive, not a zombie, and (when given) started at `startTime`. */
export function pidAlive(pid: number, startTime?: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return false;
    return startTime === undefined || fields[19] === startTime;
  } catch {
    return false;
  }
}

export interface Spawned {
  pid: number;
  startTime: string;
}

/**
 * Starts argv inside `ns`, detached from us (it outlives the runner), stdout and stderr
 * appended to `logFile`. `ip netns exec` execs the program, so the pid is the daemon's.
 */
export async function spawnDetached(ns: string, argv: string[], opts: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<Spawned> {
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve(child.pid!));
    });
    child.unref();
    // The start time survives exec, so it identifies the daemon `ip netns exec` becomes.
    return { pid, startTime: procStartTime(pid) ?? '' };
  } finally {
    closeSync(fd);
  }
}

export function readCmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** Namespace a process lives in (by `ip netns identify`), '' when none of the named ones. */
export async function nsOfPid(pid: number): Promise<string> {
  return (await sh(['ip', 'netns', 'identify', String(pid)]).catch(() => '')).trim();
}

/** Sends SIGTERM to each live process, waits up to `graceMs`, then SIGKILLs what is left. */
export async function stopProcesses(procs: Array<{ pid: number; startTime?: string }>, graceMs = 3000): Promise<void> {
  const live = procs.filter((p) => pidAlive(p.pid, p.startTime));
  for (const p of live) {
    try { process.kill(p.pid, 'SIGTERM'); } catch { /* gone */ }
  }
  const deadline = Date.now() + graceMs;
  while (live.some((p) => pidAlive(p.pid, p.startTime)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const p of live) {
    if (pidAlive(p.pid, p.startTime)) {
      try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
}

/** Polls `fn` until truthy or `timeoutMs`; throws naming `what` (and the last error). */
export async function waitUntil<T>(what: string, fn: () => Promise<T> | T, timeoutMs: number, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message ?? String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function tailFile(file: string, bytes = 2000): string {
  if (!existsSync(file)) return '';
  const s = readFileSync(file, 'utf8');
  return s.length > bytes ? s.slice(-bytes) : s;
}

export function isRoot(): boolean {
  return process.platform === 'linux' && typeof process.getuid === 'function' && process.getuid() === 0;
}
