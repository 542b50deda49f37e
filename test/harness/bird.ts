// Test harness: one BIRD 2 instance inside a network namespace, for interop tests.
// Runs `bird -f -c CONF -s SOCK -P PID` in the foreground (so we hold its pid) with all its
// files in a private temp dir; `birdc(cmd)` talks to it over that control socket.
// `stop()` kills it by pid and removes the dir; it is registered with `lab.onCleanup`.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, waitFor, type Lab } from './netns.js';

export interface BirdHandle {
  readonly ns: string;
  readonly dir: string;
  readonly socket: string;
  readonly pid: number | undefined;
  /** Runs one birdc command (words split on spaces unless given as an array); returns stdout. */
  birdc(cmd: string | string[]): Promise<string>;
  /** BIRD's own output so far (stdout+stderr), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** True when bird and birdc are installed. */
export function haveBird(): boolean {
  return existsSync('/usr/sbin/bird') && existsSync('/usr/sbin/birdc');
}

/** Starts BIRD in `ns` with `config` and waits until its control socket answers. */
export async function startBird(lab: Lab, ns: string, config: string): Promise<BirdHandle> {
  const dir = mkdtempSync(join(tmpdir(), `bird-${ns}-`));
  const conf = join(dir, 'bird.conf');
  const socket = join(dir, 'bird.ctl');
  writeFileSync(conf, config);
  // Check the config first: a parse error is clearer here than a dead daemon later.
  await run('bird', ['-p', '-c', conf]).catch((err) => {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`BIRD config rejected: ${String(err)}\n${config}`);
  });
  let output = '';
  let stopped = false;
  const child = lab.spawn(ns, 'bird', ['-f', '-c', conf, '-s', socket, '-P', join(dir, 'bird.pid')]);
  if (child.pid !== undefined) lab.trackPid(child.pid);
  child.stdout?.on('data', (b) => (output += String(b)));
  child.stderr?.on('data', (b) => (output += String(b)));

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

  const birdc = (cmd: string | string[]): Promise<string> =>
    run('birdc', ['-s', socket, ...(Array.isArray(cmd) ? cmd : cmd.split(/\s+/).filter(Boolean))]);
  await waitFor(`BIRD control socket ${socket}`, async () => {
    if (child.exitCode !== null) throw new Error(`bird exited ${child.exitCode}: ${output}`);
    return existsSync(socket) && (await birdc('show status')).includes('Daemon is up');
  }, 10000, 50);
  return { ns, dir, socket, pid: child.pid, birdc, log: () => output, stop };
}

/** State of BIRD protocol `name` as `birdc show protocols` prints it (e.g. 'Established'), or undefined. */
export async function birdProtocolInfo(h: BirdHandle, name: string): Promise<string | undefined> {
  const out = await h.birdc(['show', 'protocols', name]);
  const line = out.split('\n').find((l) => l.startsWith(name + ' '));
  return line?.trim().split(/\s+/).slice(5).join(' ') || undefined;
}
