// The POST side of bench/agent/run.ts, run INSIDE the compute namespace (the agent API
// listens on its loopback). Reads one port id per stdin line, sends POST
// /api/v1/floatingips for it over a kept-alive connection, and prints one JSON line:
// {port, status, address, t0Mono, t1Mono, t0Wall} — t*Mono from process.hrtime (CLOCK_MONOTONIC,
// comparable across processes on this machine, in ms), t0Wall in epoch ms (for tshark's
// frame.time_epoch).
import { createInterface } from 'node:readline';

const [base, token] = process.argv.slice(2);
const mono = (): number => Number(process.hrtime.bigint()) / 1e6;

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const port = line.trim();
  if (!port) continue;
  const t0Wall = performance.timeOrigin + performance.now();
  const t0Mono = mono();
  let status = 0;
  let address = '';
  let error = '';
  try {
    const res = await fetch(`${base}/api/v1/floatingips`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ floatingip: { network: 'ext', portId: port } }),
    });
    status = res.status;
    const body = (await res.json()) as { floatingip?: { address: string }; error?: { message: string } };
    address = body.floatingip?.address ?? '';
    error = body.error?.message ?? '';
  } catch (err) {
    error = (err as Error).message;
  }
  process.stdout.write(JSON.stringify({ port, status, address, error, t0Mono, t1Mono: mono(), t0Wall }) + '\n');
}
