// The pure part of one agent reconcile pass, timed function by function (prints a table,
// asserts nothing): with N FIPs on one chassis, what intentFromObjects, IntentIndex,
// planNat, routesForChassis, diffRoutes, statusUpdates and natDelta cost. A full pass of
// the agent (agent/agent.ts: start, resync tick, any non-FIP change) runs all of them
// over the whole chassis view; FIP-only changes are planned incrementally (planner.ts).
// Then the route sort inside routesForChassis on shuffled input, and what the agent runs
// for one FIP event instead: Planner.incremental and natDeltaAt (the FIP removed, then
// added back, alternately).
// Run: npx tsc -p . && node dist/bench/agent/pass.js [--sizes 1000,10000] [--runs 7]
import { loadavg, cpus } from 'node:os';
import { IntentIndex, sortRoutes, diffRoutes, intentFromObjects, planNat, routesForChassis, statusUpdates } from '../../dynrouting/index.js';
import { natDelta, natDeltaAt } from '../../agent/nat-delta.js';
import { Planner } from '../../agent/planner.js';
import type { IntentObject, Kind } from '../../store/index.js';
import type { RouteSpec } from '../../bgp/routespec.js';
import { portIp, rangeFipAddress } from '../../test/agent/lab.js';
import { table } from '../table.js';

const sizesArg = process.argv.indexOf('--sizes');
const SIZES = sizesArg >= 0 ? process.argv[sizesArg + 1]!.split(',').map(Number) : [1000, 10000];
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 7;

function view(n: number): Array<{ kind: Kind; value: IntentObject }> {
  const out: Array<{ kind: Kind; value: IntentObject }> = [
    { kind: 'chassis', value: { name: 'compute1', uplinkIp: '192.0.2.11', routerId: '192.0.2.11', localAsn: 65011, snatAddresses: ['203.0.113.201'], bgpNeighbors: [{ address: '192.0.2.1', asn: 65000 }] } as IntentObject },
    { kind: 'network', value: { id: 'ext', name: 'public', cidr: '100.96.0.0/16', mode: 'l3', pools: [{ start: '100.96.0.1', end: '100.96.255.254' }] } as IntentObject },
    { kind: 'tenant', value: { id: 't1', name: 't1', subnets: ['10.0.0.0/16'] } as IntentObject },
    { kind: 'speaker', value: { id: 'default', advertiseFipHostRoutes: true, advertiseSnatAddresses: false, advertiseTenantPrefixes: false, mode: 'per-chassis' } as IntentObject },
  ];
  for (let i = 0; i < n; i++) {
    out.push({ kind: 'port', value: { id: `vm-${i}`, tenant: 't1', fixedIp: portIp(i), chassis: 'compute1', interfaceName: 'tap-vm1' } as IntentObject });
    out.push({ kind: 'floatingip', value: { id: `f-${i}`, address: rangeFipAddress(i), network: 'ext', tenant: 't1', portId: `vm-${i}`, activeChassis: 'compute1' } as IntentObject });
  }
  return out;
}

function median(fn: () => void): number {
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    fn();
    xs.push(performance.now() - t);
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
}

const rows: Array<Array<string | number>> = [];
// warm-up: let the JIT compile every function before anything is timed
for (const n of [...SIZES, ...SIZES]) {
  const ix = new IntentIndex(intentFromObjects(view(Math.min(n, 2000))));
  const p = planNat(ix, 'compute1');
  const r = routesForChassis(ix, 'compute1');
  diffRoutes(r, r);
  natDelta(p.desired, p.desired);
  sortRoutes(r);
}
for (const n of SIZES) {
  const items = view(n);
  const intent = intentFromObjects(items);
  const ix = new IntentIndex(intent);
  const plan = planNat(ix, 'compute1');
  const routes = routesForChassis(ix, 'compute1');
  const shuffled = [...routes].sort(() => Math.random() - 0.5);
  const t = {
    intentFromObjects: median(() => intentFromObjects(items)),
    IntentIndex: median(() => new IntentIndex(intent)),
    planNat: median(() => planNat(ix, 'compute1', { previous: plan.desired, previousZones: plan.zones })),
    routesForChassis: median(() => routesForChassis(ix, 'compute1')),
    diffRoutes: median(() => diffRoutes(routes, routes)),
    statusUpdates: median(() => statusUpdates(ix, 'compute1')),
    natDelta: median(() => natDelta(plan.desired, plan.desired)),
  };
  const sum = Object.values(t).reduce((a, b) => a + b, 0);
  const sortNow = median(() => sortRoutes(shuffled));
  const v = new Map(items.map((o) => [`${o.kind}/${(o.value as { id?: string; name?: string }).id ?? (o.value as { name: string }).name}`, o]));
  const planner = new Planner('compute1');
  let zones = planner.full(v, [], { zones: new Map(), nat: undefined }).nat.zones;
  const fipKey = `floatingip/f-${n >> 1}`;
  const fip = v.get(fipKey)!;
  const oneFip = new Map([[`f-${n >> 1}`, rangeFipAddress(n >> 1)]]);
  const incremental = median(() => {
    if (v.has(fipKey)) v.delete(fipKey);
    else v.set(fipKey, fip);
    const step = planner.incremental(v, oneFip, zones);
    if (!step) throw new Error('the incremental plan gave up');
    natDeltaAt(step.natChanged!.base, step.nat.desired, step.natChanged!.addresses);
    zones = step.nat.zones;
  });
  for (const [k, v] of Object.entries(t)) rows.push([n, k, v.toFixed(1)]);
  rows.push([n, 'sum (one pass, no I/O)', sum.toFixed(1)]);
  rows.push([n, `  of which: sortRoutes of ${routes.length} shuffled routes`, sortNow.toFixed(1)]);
  rows.push([n, 'one FIP event: Planner.incremental + natDeltaAt', incremental.toFixed(2)]);
}

table('Pure part of one agent pass (one chassis, N ports + N FIPs, all active here)', ['FIPs', 'step', `ms (median of ${RUNS})`], rows);
console.log(`\n${new Date().toISOString()}; ${cpus().length} CPUs; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
