// Child process for BFD interop tests and benchmarks: runs a BfdManager inside a network
// namespace (Node cannot enter one itself, so the test starts us with `ip netns exec`).
// Protocol: JSON lines. stdin: { id, cmd, ...args }; stdout: { id, ok, result | error }
// replies and { ev: 'up'|'down'|'state', mono, ...BfdStateEvent } events, where `mono` is
// CLOCK_MONOTONIC in ms (process.hrtime), comparable across processes on one machine.
import { createInterface } from 'node:readline';
import { BfdManager, type BfdPeerConfig, type BfdTimersMs } from '../../bgp/bfd/index.js';

const manager = new BfdManager(process.env['EFB_BFD_PORT'] ? { port: Number(process.env['EFB_BFD_PORT']) } : {});
const mono = (): number => Number(process.hrtime.bigint()) / 1e6;
const out = (o: unknown): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
};

for (const name of ['up', 'down', 'state'] as const) {
  manager.on(name, (ev) => out({ ev: name, mono: mono(), ...ev }));
}
manager.on('error', (err: Error) => out({ ev: 'error', message: err.message }));

type Cmd =
  | { id: number; cmd: 'add'; cfg: BfdPeerConfig }
  | { id: number; cmd: 'addMany'; cfgs: BfdPeerConfig[] }
  | { id: number; cmd: 'remove'; peer: string }
  | { id: number; cmd: 'setTimers'; peer: string; timers: Partial<BfdTimersMs> }
  | { id: number; cmd: 'snapshot' }
  | { id: number; cmd: 'drops' }
  | { id: number; cmd: 'cpu' }
  | { id: number; cmd: 'exit' };

async function handle(c: Cmd): Promise<unknown> {
  switch (c.cmd) {
    case 'add':
      return (await manager.add(c.cfg)).localDiscr;
    case 'addMany':
      for (const cfg of c.cfgs) await manager.add(cfg);
      return c.cfgs.length;
    case 'remove':
      return manager.remove(c.peer);
    case 'setTimers':
      return manager.setTimers(c.peer, c.timers);
    case 'snapshot':
      return manager.snapshot();
    case 'drops':
      return manager.drops;
    case 'cpu':
      return { ...process.cpuUsage(), mono: mono() };
    case 'exit':
      await manager.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let c: Cmd;
  try {
    c = JSON.parse(line) as Cmd;
  } catch {
    return;
  }
  handle(c).then(
    (result) => out({ id: c.id, ok: true, result: result ?? null }),
    (err: Error) => out({ id: c.id, ok: false, error: err.message }),
  );
});
process.stdin.on('end', () => void manager.close().then(() => process.exit(0)));
out({ ev: 'ready', mono: mono() });
