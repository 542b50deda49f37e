// The NAT half of the resync: is the kernel still what the passes applied? `natDrift`
// reads our table, routes, rules and proxies and compares them with the model of what
// was applied (the agent's lastNat). At 10,000 FIPs that is ≈ 0.5 s of parsing,
// validating and diffing, in blocks of up to ~180 ms that stalled the agent's event loop
// (a FIP created meanwhile waited for them: they were the API's p99). So the agent runs
// it in a worker thread (drift-worker.ts) with a NAT reader of its own (own shell, own
// nftd helper); the agent's thread only serialises the model (≈ 5 ms at 10,000).
import { Worker } from 'node:worker_threads';
import { buildNft, buildPlumb, diffNft, diffPlumb, validateDesired, type NatDesired, type NatManager, type NatMode } from '../nat/index.js';
import { MAP_NAMES } from '../nat/state.js';
import { MAIN } from '../nat/plumb.js';

export interface DriftReport {
  /** Differences not tied to one FIP or port: table, maps, chains, zones, policy rules. */
  structural: string[];
  /** FIP (and L2-mode SNAT) addresses whose map elements, host route or proxy entry differ. */
  fips: string[];
  /** Fixed IPs whose host route in a tenant table differs. */
  hosts: string[];
  nftAdded: number;
  nftDeleted: number;
  chains: string[];
  ipLines: number;
}

/** What the reader needs to know (plain data: it crosses into the worker). */
export interface DriftReaderOptions {
  externalInterface: string;
  mode: NatMode;
  table?: string;
}

/**
 * Compares the kernel (through `reader`) with `model`, entity by entity: the caller can
 * then ignore what changed on purpose while the read ran (agent.ts). Pure apart from the read.
 */
export async function natDrift(reader: NatManager, model: NatDesired): Promise<DriftReport> {
  const [cur, curPl] = await Promise.all([reader.readNft(), reader.readPlumb()]);
  const v = validateDesired(model, reader.config);
  const want = buildNft(v, reader.config.externalInterface);
  const wantPl = buildPlumb(v, reader.config);
  const structural: string[] = [];
  const fips = new Set<string>();
  const hosts = new Set<string>();
  if (!cur.table) structural.push('table');
  for (const m of MAP_NAMES) {
    const have = cur.maps[m];
    const goal = want.maps[m];
    if (!have) {
      structural.push(`map ${m}`);
      continue;
    }
    // an element names its FIP by key (dnat, mark) or by value (snat: zone . fixed IP → FIP)
    const byValue = m === 'fip4_snat' || m === 'fip6_snat';
    const byKey = m === 'fip4_dnat' || m === 'fip6_dnat' || m === 'fip4_mark' || m === 'fip6_mark';
    const note = (k: string, ...values: Array<string | undefined>) => {
      if (byKey) fips.add(k);
      else if (byValue) {
        for (const x of values) if (x !== undefined) fips.add(x);
      } else if (!structural.includes(`map ${m}`)) structural.push(`map ${m}`);
    };
    for (const [k, x] of goal) if (have.get(k) !== x) note(k, x, have.get(k));
    for (const [k, x] of have) if (!goal.has(k)) note(k, x);
  }
  const d = diffNft(want, cur, reader.config.table);
  structural.push(...d.chains.map((c) => `chain ${c}`));
  const p = diffPlumb(wantPl, curPl, reader.config);
  for (const [k, t] of wantPl.rules) if (curPl.rules.get(k) !== t) structural.push(`rule ${k}`);
  for (const [k, t] of curPl.rules) if (!wantPl.rules.has(k)) structural.push(`rule ${k}`);
  // route keys are `${table} ${dst}`: a `dev lo` route in main is an L2-mode FIP/SNAT address
  const route = (k: string, dev: string | undefined) => {
    const dst = k.slice(k.indexOf(' ') + 1).replace(/\/\d+$/, '');
    if (k.startsWith(`${MAIN} `) && dev === 'lo') fips.add(dst);
    else hosts.add(dst);
  };
  for (const [k, dev] of wantPl.routes) if (curPl.routes.get(k) !== dev) route(k, dev);
  for (const [k, dev] of curPl.routes) if (!wantPl.routes.has(k)) route(k, dev);
  for (const a of wantPl.proxies) if (!curPl.proxies.has(a)) fips.add(a);
  for (const a of curPl.proxies) if (!wantPl.proxies.has(a)) fips.add(a);
  return { structural, fips: [...fips], hosts: [...hosts], nftAdded: d.added, nftDeleted: d.deleted, chains: d.chains, ipLines: p.make.length + p.brk.length };
}

type Reply = { id: number; report: DriftReport } | { id: number; error: string };

/** `natDrift` in a worker thread; one check at a time is expected, more are queued by id. */
export class DriftWorker {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: DriftReport) => void; reject: (e: Error) => void }>();

  constructor(private readonly opts: DriftReaderOptions) {}

  check(model: NatDesired): Promise<DriftReport> {
    const w = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.postMessage({ id, model: JSON.stringify(model) });
    });
  }

  private start(): Worker {
    const w = new Worker(new URL('./drift-worker.js', import.meta.url), { workerData: this.opts });
    w.unref(); // never what keeps the agent alive
    w.on('message', (m: Reply) => {
      const p = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if ('error' in m) p?.reject(new Error(m.error));
      else p?.resolve(m.report);
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = undefined; // the next check starts a new one
      for (const p of this.waiting.values()) p.reject(err);
      this.waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`drift worker exited (${code})`)));
    this.worker = w;
    return w;
  }

  /** Ends the worker and, through it, its shell and nftd helper. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    const exited = new Promise<void>((r) => w.once('exit', () => r()));
    w.postMessage({ close: true });
    const t = setTimeout(() => void w.terminate(), 2000);
    await exited;
    clearTimeout(t);
  }
}
