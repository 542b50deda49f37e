// A Runner that keeps one small shell (/bin/sh) and runs every tool through it. Forking a
// large Node process for each `nft`/`ip` call costs tens of ms (page tables of the whole
// heap are copied); forking from the shell costs about one. Commands run one at a time,
// in order; each ends with markers on stdout and stderr that carry its exit code.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Runner, RunResult } from './exec.js';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface Pending {
  id: string;
  resolve: (r: RunResult) => void;
  out: string;
  /** stdout so far, in chunks (joined into `out` once the end marker is seen). */
  chunks: string[];
  err: string;
  code: number | undefined;
  errDone: boolean;
}

/** One shell per runner (optionally inside `netns`); restarted if it dies. */
export function shellRunner(netns?: string): Runner & { close(): void } {
  let sh: ChildProcessWithoutNullStreams | undefined;
  let current: Pending | undefined;
  const queue: Array<{ script: string; p: Pending }> = [];
  const tag = randomBytes(6).toString('hex');

  const settle = () => {
    const p = current;
    if (!p || p.code === undefined || !p.errDone) return;
    current = undefined;
    p.resolve({ code: p.code, stdout: p.out, stderr: p.err });
    next();
  };
  const start = () => {
    const c = netns ? spawn('ip', ['netns', 'exec', netns, '/bin/sh'], { stdio: 'pipe' }) : spawn('/bin/sh', [], { stdio: 'pipe' });
    c.stdout.setEncoding('utf8');
    c.stderr.setEncoding('utf8');
    c.stdout.on('data', (d: string) => {
      if (!current) return;
      // chunks are kept apart and joined once: appending to one string and slicing its
      // tail flattened the whole string on every chunk (quadratic; seconds for `nft -j list`
      // or `ip -j route` of 10,000 entries). The end marker may straddle two chunks.
      const p = current;
      p.chunks.push(d);
      let tail = d;
      for (let i = p.chunks.length - 2; i >= 0 && tail.length < 128; i--) tail = p.chunks[i]!.slice(-128) + tail;
      const m = new RegExp(`__EF_${tag}_${p.id}_OUT_(\\d+)\\n$`).exec(tail);
      if (m) {
        const all = p.chunks.join('');
        p.out = all.slice(0, all.length - (tail.length - m.index));
        p.chunks = [];
        p.code = Number(m[1]);
        settle();
      }
    });
    c.stderr.on('data', (d: string) => {
      if (!current) return;
      current.err += d;
      const marker = `__EF_${tag}_${current.id}_ERR\n`;
      if (current.err.endsWith(marker)) {
        current.err = current.err.slice(0, -marker.length);
        current.errDone = true;
        settle();
      }
    });
    c.on('close', () => {
      sh = undefined;
      const p = current;
      current = undefined;
      if (p) p.resolve({ code: 128, stdout: p.out + p.chunks.join(''), stderr: `${p.err}shell exited` });
      if (queue.length) next();
    });
    c.on('error', () => undefined);
    c.stdin.on('error', () => undefined);
    sh = c;
  };
  const next = () => {
    if (current || !queue.length) return;
    const { script, p } = queue.shift()!;
    if (!sh) start();
    current = p;
    sh!.stdin.write(script);
  };
  let seq = 0;
  let closed = false;
  const run: Runner = (cmd, args, input) => new Promise((resolve) => {
    if (closed) {
      resolve({ code: 128, stdout: '', stderr: 'shell runner closed' });
      return;
    }
    const id = String(++seq);
    const delim = `__EF_${tag}_${id}_IN`;
    const line = [cmd, ...args].map(quote).join(' ');
    const stdin = input === undefined ? ' </dev/null' : ` <<'${delim}'\n${input}${input.endsWith('\n') || input === '' ? '' : '\n'}${delim}`;
    const script = `${line}${stdin}\necho "__EF_${tag}_${id}_OUT_$?"; echo "__EF_${tag}_${id}_ERR" >&2\n`;
    queue.push({ script, p: { id, resolve, out: '', chunks: [], err: '', code: undefined, errDone: false } });
    next();
  });
  return Object.assign(run, {
    close() {
      closed = true;
      sh?.stdin.end();
      sh = undefined;
    },
  });
}
