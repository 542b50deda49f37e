// Client of nat/nftd.py, the persistent nftables helper: one python3 process (optionally
// inside `ip netns exec <netns>`) holding one libnftables context. A script sent here is
// one nft_run_cmd_from_buffer() call, so one atomic transaction, with no process spawn
// and no cold nft cache per change (a spawn from Node costs 9-16 ms here; the call itself
// ~0.2 ms). Requests go one at a time, in order. A helper that dies fails the call in
// flight and is started again by the next call; after close() calls fail. There is no
// fallback to the `nft` tool: a missing python3-nftables is an error naming the package.
//
// Framing (see nftd.py): request "T|J <bytes>\n" + script; reply "<rc> <out> <err>\n" +
// out + err; the helper greets with "nftd 1\n". The parser is apart from the process.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunResult } from './exec.js';

/** The helper's source, beside this module's TypeScript source (dist/nat/ → nat/). */
export const NFTD_SCRIPT = fileURLToPath(new URL('../../nat/nftd.py', import.meta.url));
const GREETING = 'nftd 1';

export interface NftClient {
  /**
   * Runs one nft script (one transaction). `json`: output as `nft -j` prints it. Never
   * rejects: a failure is a non-zero `code` with the reason in `stderr` (nft's own
   * message, or why the helper is gone).
   */
  run(script: string, json?: boolean): Promise<RunResult>;
  /** Ends the helper; later calls fail. */
  close(): void;
  /** Pid of the running helper (`ip netns exec` execs python, so it is python's), if any. */
  readonly pid: number | undefined;
}

export interface NftHelperOptions {
  netns?: string | undefined;
  /** Interpreter with the python3-nftables module; default Debian's /usr/bin/python3. */
  python?: string | undefined;
  /** A call that takes longer kills the helper and fails (default 60 s). */
  timeoutMs?: number | undefined;
}

export type NftdFrame = { greeting: string } | { rc: number; out: string; err: string };

/** Splits the helper's stdout into frames; chunks may end anywhere. */
export class NftdParser {
  private chunks: Buffer[] = [];
  private size = 0;
  private greeted = false;
  private head: { rc: number; out: number; err: number } | undefined;

  push(chunk: Buffer, emit: (f: NftdFrame) => void): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    for (;;) {
      if (!this.head) {
        const buf = this.flat();
        const nl = buf.indexOf(10);
        if (nl < 0) {
          if (this.size > 256) throw new Error('nftd: reply header too long');
          return;
        }
        const line = buf.toString('latin1', 0, nl);
        this.take(nl + 1);
        if (!this.greeted) {
          if (line !== GREETING) throw new Error(`nftd: unexpected greeting ${JSON.stringify(line.slice(0, 80))}`);
          this.greeted = true;
          emit({ greeting: line });
          continue;
        }
        const m = /^(-?\d+) (\d+) (\d+)$/.exec(line);
        if (!m) throw new Error(`nftd: bad reply header ${JSON.stringify(line.slice(0, 80))}`);
        this.head = { rc: Number(m[1]), out: Number(m[2]), err: Number(m[3]) };
      }
      const need = this.head.out + this.head.err;
      if (this.size < need) return;
      const buf = this.flat();
      const { rc, out } = this.head;
      emit({ rc, out: buf.toString('utf8', 0, out), err: buf.toString('utf8', out, need) });
      this.take(need);
      this.head = undefined;
    }
  }

  /** All buffered bytes as one Buffer (joined only when a whole frame is there). */
  private flat(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0]!;
  }

  private take(n: number): void {
    const rest = this.flat().subarray(n);
    this.chunks = [rest];
    this.size = rest.length;
  }
}

interface Job { frame: Buffer; resolve: (r: RunResult) => void }

/** Starts the helper lazily on the first call. The process keeps Node alive only while a call is in flight. */
export function nftHelper(opts: NftHelperOptions = {}): NftClient {
  const python = opts.python ?? '/usr/bin/python3';
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const queue: Job[] = [];
  let child: ChildProcess | undefined;
  let greeted = false;
  let current: Job | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stderrTail = '';
  let closed = false;

  const handles = (c: ChildProcess) => [c, c.stdin, c.stdout, c.stderr] as unknown as Array<{ ref?(): void; unref?(): void } | null>;
  const hold = (on: boolean) => {
    if (child) for (const h of handles(child)) on ? h?.ref?.() : h?.unref?.();
  };

  const finish = (r: RunResult) => {
    const j = current;
    current = undefined;
    clearTimeout(timer);
    j?.resolve(r);
  };
  const next = () => {
    if (current || !queue.length) {
      if (!current) hold(false);
      return;
    }
    if (!child) start();
    if (!greeted || !child) return; // the greeting calls next() again
    current = queue.shift()!;
    hold(true);
    timer = setTimeout(() => {
      stderrTail += `\nnftd: no reply within ${timeoutMs} ms, killed`;
      child?.kill('SIGKILL');
    }, timeoutMs);
    child.stdin!.write(current.frame);
  };
  const start = () => {
    const args = [NFTD_SCRIPT];
    const c = opts.netns ? spawn('ip', ['netns', 'exec', opts.netns, python, ...args], { stdio: 'pipe' }) : spawn(python, args, { stdio: 'pipe' });
    const parser = new NftdParser();
    child = c;
    greeted = false;
    stderrTail = '';
    c.stdout!.on('data', (d: Buffer) => {
      try {
        parser.push(d, (f) => {
          if ('greeting' in f) {
            greeted = true;
            next();
          } else {
            finish({ code: f.rc === 0 ? 0 : f.rc < 0 ? -f.rc : f.rc, stdout: f.out, stderr: f.err });
            next();
          }
        });
      } catch (e) {
        stderrTail += `\n${(e as Error).message}`;
        c.kill('SIGKILL');
      }
    });
    c.stderr!.on('data', (d: Buffer) => (stderrTail = (stderrTail + d.toString()).slice(-4000)));
    c.on('error', (e) => (stderrTail += `\n${python}: ${e.message}`));
    c.stdin!.on('error', () => undefined);
    c.on('close', (code, signal) => {
      if (child === c) child = undefined;
      const why = stderrTail.trim();
      const hint = /No module named .nftables/.test(why) ? ' (install the Debian package python3-nftables: scripts/install-deps.sh)' : '';
      finish({ code: 128, stdout: '', stderr: `nft helper ${python} ${NFTD_SCRIPT} exited (${signal ?? `code ${code}`})${hint}${why ? `: ${why}` : ''}` });
      // a helper that cannot start fails every waiting call once, instead of looping
      if (!greeted) for (const j of queue.splice(0)) j.resolve({ code: 128, stdout: '', stderr: `nft helper did not start${hint}${why ? `: ${why}` : ''}` });
      next();
    });
    hold(true);
  };

  return {
    run(script, json = false) {
      return new Promise<RunResult>((resolve) => {
        if (closed) return resolve({ code: 128, stdout: '', stderr: 'nft helper closed' });
        const body = Buffer.from(script, 'utf8');
        queue.push({ frame: Buffer.concat([Buffer.from(`${json ? 'J' : 'T'} ${body.length}\n`, 'latin1'), body]), resolve });
        next();
      });
    },
    close() {
      closed = true;
      for (const j of queue.splice(0)) j.resolve({ code: 128, stdout: '', stderr: 'nft helper closed' });
      child?.stdin?.end(); // the helper answers the call in flight, then exits at end of input
      if (!current) hold(false);
    },
    get pid() {
      return child?.pid;
    },
  };
}
