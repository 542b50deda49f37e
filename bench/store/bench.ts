// Benchmark of the intent store (prints tables, asserts nothing):
//  1. watch fan-out: 1,000 watchers on one etcd; time from a put to each watcher
//     seeing it. Watchers are spread over a few etcd3 clients (one gRPC watch
//     stream per client, many watchers multiplexed on it), all in this process.
//  2. floating-IP allocation throughput and latency, etcd vs embedded (fsync on/off),
//     one at a time and 16 in flight; and the worst case of the tests: 200 allocations
//     racing for a 150-address pool from 4 clients.
// Run: npx tsc -p . && node dist/bench/store/bench.js   (etcd on 127.0.0.1:24384/24395)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { EtcdKv, objectKey, openEmbeddedStore, openEtcdStore, type IntentStore } from '../../store/index.js';
import { ETCD_SKIP, startEtcd } from '../../test/harness/etcd.js';
import { table } from '../table.js';

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const ms = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(2));

async function fanout(endpoint: string, watchers: number, clients: number, puts: number): Promise<Array<string | number>> {
  const stores = Array.from({ length: clients }, () => openEtcdStore({ endpoints: [endpoint] }));
  // The writer is the raw etcd backend: one txn RPC per put, so the numbers are etcd → watcher, not our validation.
  const writer = new EtcdKv({ endpoints: [endpoint] });
  const tenant = `bench-${watchers}-${clients}`;
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  const lastPerPut = new Map<string, number>();
  const seenPerPut = new Map<string, number>();
  const from = (await writer.revision()) + 1;
  for (let i = 0; i < watchers; i++) {
    await stores[i % clients]!.watch({ fromRevision: from, kinds: ['port'] }, (ev) => {
      const t = performance.now() - sentAt.get(ev.id)!;
      lat.push(t);
      lastPerPut.set(ev.id, Math.max(lastPerPut.get(ev.id) ?? 0, t));
      seenPerPut.set(ev.id, (seenPerPut.get(ev.id) ?? 0) + 1);
    });
  }
  for (let i = 0; i < puts; i++) {
    const id = `fan-${watchers}-${clients}-${i}`;
    sentAt.set(id, performance.now());
    const value = JSON.stringify({ id, tenant, fixedIp: `10.0.${i >> 8}.${i & 255}`, chassis: 'c1' });
    await writer.txn([], [{ type: 'put', key: objectKey('port', id), value }]);
    // Let every watcher see it before the next put, so puts do not queue behind each other.
    const deadline = Date.now() + 5000;
    while ((seenPerPut.get(id) ?? 0) < watchers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  }
  lat.sort((a, b) => a - b);
  const last = [...lastPerPut.values()].sort((a, b) => a - b);
  await Promise.all(stores.map((s) => s.close()));
  await writer.close();
  return [watchers, clients, puts, lat.length, ms(pct(lat, 50)), ms(pct(lat, 99)), ms(pct(last, 50)), ms(pct(last, 99))];
}

async function allocation(name: string, open: () => Promise<IntentStore>, n: number, inflight: number, present = 0): Promise<Array<string | number>> {
  const s = await open();
  const net = `ext-${inflight}-${Math.random().toString(36).slice(2, 8)}`;
  await s.put('tenant', { id: 'bt', subnets: ['10.0.0.0/16'] });
  await s.put('network', { id: net, cidr: '100.64.0.0/16', pools: [{ start: '100.64.0.1', end: '100.64.255.254' }] });
  // FIPs already present (given addresses), written 40 per transaction.
  for (let i = 0; i < present; i += 40) {
    await s.txn(Array.from({ length: Math.min(40, present - i) }, (_, j) => {
      const k = i + j;
      return { op: 'put' as const, kind: 'floatingip' as const, value: { id: `pre-${net}-${k}`, network: net, tenant: 'bt', portId: null, address: `100.64.${100 + (k >> 8)}.${k & 255}` } };
    }));
  }
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (next < n) {
      next++;
      const a = performance.now();
      await s.allocateFloatingIp({ network: net, tenant: 'bt' });
      lat.push(performance.now() - a);
    }
  }));
  const total = performance.now() - t0;
  await s.close();
  lat.sort((a, b) => a - b);
  return [name, present, n, inflight, Math.round((n / total) * 1000), ms(pct(lat, 50)), ms(pct(lat, 99))];
}

async function exhaustion(name: string, open: () => Promise<IntentStore[]>): Promise<Array<string | number>> {
  const cs = await open();
  const net = `exh-${Math.random().toString(36).slice(2, 8)}`;
  await cs[0]!.put('tenant', { id: 'bt', subnets: ['10.0.0.0/16'] });
  await cs[0]!.put('network', { id: net, cidr: '198.51.100.0/24', pools: [{ start: '198.51.100.10', end: '198.51.100.159' }] });
  const t0 = performance.now();
  const r = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => cs[i % cs.length]!.allocateFloatingIp({ network: net, tenant: 'bt' })));
  const total = performance.now() - t0;
  await Promise.all([...new Set(cs)].map((c) => c.close()));
  return [name, r.filter((x) => x.status === 'fulfilled').length, r.filter((x) => x.status === 'rejected').length, ms(total)];
}

async function main(): Promise<void> {
  if (ETCD_SKIP) {
    console.log(`skipping: ${ETCD_SKIP}`);
    return;
  }
  const etcd = await startEtcd({ clientPort: 24384, peerPort: 24395 });
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'edgeflow-bench-'));
    dirs.push(d);
    return d;
  };
  try {
    console.log(`node ${process.version}, etcd 3.4 (Debian etcd-server) on loopback, one process for all clients; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on 2 cores`);
    const fan: Array<Array<string | number>> = [];
    for (const [w, c] of [[1, 1], [100, 1], [1000, 10], [1000, 100]] as const) fan.push(await fanout(etcd.endpoint, w, c, 50));
    table('Watch fan-out: put → watcher callback (ms)', ['watchers', 'etcd3 clients', 'puts', 'deliveries', 'p50 each', 'p99 each', 'p50 last watcher', 'p99 last watcher'], fan);

    const alloc: Array<Array<string | number>> = [];
    for (const inflight of [1, 16]) {
      alloc.push(await allocation('etcd', async () => openEtcdStore({ endpoints: [etcd.endpoint] }), 500, inflight));
      alloc.push(await allocation('embedded (fsync)', () => openEmbeddedStore({ dir: tmp() }), 500, inflight));
      alloc.push(await allocation('embedded (no fsync)', () => openEmbeddedStore({ dir: tmp(), fsync: false }), 500, inflight));
    }
    alloc.push(await allocation('etcd', async () => openEtcdStore({ endpoints: [etcd.endpoint] }), 500, 1, 10_000));
    alloc.push(await allocation('embedded (fsync)', () => openEmbeddedStore({ dir: tmp() }), 500, 1, 10_000));
    table('FIP allocation from a /16 pool', ['driver', 'FIPs present', 'allocations', 'in flight', 'per second', 'p50 ms', 'p99 ms'], alloc);

    const exh = [
      await exhaustion('etcd, 4 clients', async () => Array.from({ length: 4 }, () => openEtcdStore({ endpoints: [etcd.endpoint] }))),
      await exhaustion('embedded (fsync)', async () => {
        const s = await openEmbeddedStore({ dir: tmp() });
        return [s, s, s, s];
      }),
    ];
    table('200 concurrent allocations racing for 150 addresses', ['driver', 'allocated', 'pool exhausted', 'total ms'], exh);
  } finally {
    await etcd.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main();
