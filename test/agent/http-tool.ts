// Concurrent REST calls to the agent, run INSIDE the compute namespace (the API listens
// on its loopback): `ip netns exec NS node http-tool.js URL TOKEN REQUESTS_JSON_FILE`.
// REQUESTS is [{method, path, body?}]; all are sent at once (one fetch each, no limit),
// and one JSON line comes back: [{status, body, ms}] in request order.
import { readFileSync } from 'node:fs';

interface Req { method: string; path: string; body?: unknown }

async function main(): Promise<void> {
  const [base, token, file] = process.argv.slice(2);
  if (!base || !token || !file) throw new Error('usage: http-tool URL TOKEN REQUESTS_FILE');
  const reqs = JSON.parse(readFileSync(file, 'utf8')) as Req[];
  const out = await Promise.all(reqs.map(async (r) => {
    const t0 = performance.now();
    const res = await fetch(`${base}${r.path}`, {
      method: r.method,
      headers: { authorization: `Bearer ${token}`, ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(r.body !== undefined ? { body: JSON.stringify(r.body) } : {}),
    });
    const text = await res.text();
    let body: unknown = text;
    try { body = text ? JSON.parse(text) : null; } catch { /* text */ }
    return { status: res.status, body, ms: performance.now() - t0 };
  }));
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().then(() => process.exit(0), (err: Error) => {
  process.stderr.write(`http-tool: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
