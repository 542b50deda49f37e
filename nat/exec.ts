// Runs the kernel tools (nft, ip, conntrack, sysctl, arping), optionally inside a named
// network namespace (`ip netns exec`). The one place nat/ touches child processes; the
// manager takes a Runner so tests and benchmarks can swap it.

import { spawn } from 'node:child_process';

export interface RunResult { code: number; stdout: string; stderr: string }
export type Runner = (cmd: string, args: string[], input?: string) => Promise<RunResult>;

/** A Runner that spawns the tool directly, or through `ip netns exec <netns>`. */
export function processRunner(netns?: string): Runner {
  return (cmd, args, input) => new Promise((resolve) => {
    const [c, a] = netns ? ['ip', ['netns', 'exec', netns, cmd, ...args]] : [cmd, args];
    const child = spawn(c, a, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => resolve({ code: 127, stdout: '', stderr: `${cmd}: ${e.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 128, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    if (input !== undefined) child.stdin!.end(input);
  });
}
