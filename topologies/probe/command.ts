// `edgeflow probe send|echo`: the failover probe's command line.
//   probe echo --port P [--name NAME] [--bind ADDR]        until SIGINT/SIGTERM
//   probe send --target IP --port P [--rate 1000] [--duration SECONDS] [--size BYTES]
//              [--linger MS] [--json]                       report on stdout
// `send` with --duration 0 sends until SIGINT/SIGTERM, then reports. Exit 0 when any
// reply came back, 1 when none did, 2 on usage errors.
import { hostname } from 'node:os';
import { sendProbe, startEcho } from './probe.js';
import { formatReport } from './stats.js';

export const PROBE_USAGE = `usage: edgeflow probe echo --port P [--name NAME] [--bind ADDR]
       edgeflow probe send --target IP --port P [--rate PPS] [--duration S] [--size B] [--linger MS] [--json]
`;

function parseFlags(args: string[]): Map<string, string> | string {
  const m = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) return `unexpected argument ${a}`;
    const eq = a.indexOf('=');
    if (eq > 0) m.set(a.slice(2, eq), a.slice(eq + 1));
    else if (a === '--json') m.set('json', 'true');
    else {
      const v = args[++i];
      if (v === undefined) return `${a} needs a value`;
      m.set(a.slice(2), v);
    }
  }
  return m;
}

function num(m: Map<string, string>, k: string, dflt: number | undefined, min: number, max: number): number | string {
  const v = m.get(k);
  if (v === undefined) return dflt === undefined ? `--${k} is required` : dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) return `--${k} must be a number in ${min}..${max}`;
  return n;
}

function untilSignal(): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  const on = (): void => ac.abort();
  process.once('SIGINT', on);
  process.once('SIGTERM', on);
  return { signal: ac.signal, done: () => { process.off('SIGINT', on); process.off('SIGTERM', on); } };
}

export async function runProbe(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  const flags = parseFlags(rest);
  const usage = (msg: string): number => {
    process.stderr.write(`edgeflow probe: ${msg}\n${PROBE_USAGE}`);
    return 2;
  };
  if (typeof flags === 'string') return usage(flags);
  if (cmd === 'echo') {
    const port = num(flags, 'port', undefined, 1, 65535);
    if (typeof port === 'string') return usage(port);
    const name = flags.get('name') ?? process.env.EF_NODE ?? hostname();
    const echo = await startEcho({ port, name, bind: flags.get('bind') });
    process.stderr.write(`probe echo: answering on UDP port ${echo.port} as ${name}\n`);
    const { signal, done } = untilSignal();
    await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    done();
    await echo.close();
    return 0;
  }
  if (cmd === 'send') {
    const target = flags.get('target');
    if (!target) return usage('--target is required');
    const port = num(flags, 'port', undefined, 1, 65535);
    const rate = num(flags, 'rate', 1000, 1, 100000);
    const duration = num(flags, 'duration', 10, 0, 86400);
    const size = num(flags, 'size', 16, 16, 9000);
    const linger = num(flags, 'linger', 200, 0, 60000);
    for (const v of [port, rate, duration, size, linger]) if (typeof v === 'string') return usage(v);
    const { signal, done } = untilSignal();
    process.stderr.write(`probe send: ${target}:${port} at ${rate}/s ${duration ? `for ${duration} s` : 'until interrupted'}\n`);
    const { report } = await sendProbe({
      target,
      port: port as number,
      rate: rate as number,
      durationMs: (duration as number) * 1000,
      size: size as number,
      lingerMs: linger as number,
      signal,
    });
    done();
    process.stdout.write(flags.get('json') ? `${JSON.stringify(report)}\n` : formatReport(report));
    return report.received > 0 ? 0 : 1;
  }
  return usage(cmd ? `unknown command ${cmd}` : 'send or echo?');
}
