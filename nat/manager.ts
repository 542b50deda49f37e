// NatManager: the thin shell around the pure parts. Reads what the kernel has (nft JSON,
// ip JSON), applies minimal changes (one atomic nft transaction through the persistent
// helper of nftd.ts, `ip -batch` around it: make before, break after), deletes conntrack
// entries of FIPs that went or moved, and in L2 mode sends a gratuitous ARP (RFC 5227 §3
// announcement) for new FIPs. Every call is queued: one writer, no interleaving across awaits.

import { NatError } from './errors.js';
import { processRunner, type Runner } from './exec.js';
import { nftHelper, type NftClient } from './nftd.js';
import { fipElements, markText } from './fip/elements.js';
import { parseIp } from './ip.js';
import { DEFAULT_CONFIG, type NatConfig, type NatDesired, type NatFip, type NatPort } from './model.js';
import { NO_TABLE, parseNftJson, type NftCurrent } from './parse.js';
import { buildPlumb, diffPlumb, emptyPlumb, MAIN, parseProxies, parseRoutes, parseRules, sysctls, type PlumbState } from './plumb.js';
import { buildNft, CHAIN_NAMES, MAP_NAMES, render, skeletonRules, type ChainName, type MapName, type NftDesired } from './state.js';
import { diffNft } from './diff.js';
import { validateConfig, validateDesired, validateFip, validatePort, type Validated, type VFip, type VPort, type VTenant } from './validate.js';
import { snatRules } from './snat/rules.js';

export interface NatManagerOptions extends Partial<NatConfig> {
  externalInterface: string;
  /** Run every tool inside this network namespace (the agent itself runs inside it: leave unset). */
  netns?: string | undefined;
  /** Runs ip, conntrack, sysctl, arping (default: a process per call). */
  runner?: Runner | undefined;
  /** Runs nft scripts (default: an nftd helper in `netns`, owned and closed by the manager). */
  nft?: NftClient | undefined;
  /** Non-fatal problems (conntrack cleanup, arping) are reported here; default: stderr. */
  onWarning?: ((message: string) => void) | undefined;
}

/** What one change did; `nftBatch` is the exact transaction sent ('' when none). */
export interface ApplyResult {
  nftBatch: string;
  ipLines: string[];
  added: number;
  deleted: number;
  chainsRewritten: string[];
  /** FIPs whose conntrack entries went: deleted (reconcile), or being deleted in the background (fast paths; settle() waits). */
  conntrackCleared: string[];
}

/** The kernel's view, as GET /api/v1/nat shows it. */
export interface NatSnapshot {
  table: string;
  present: boolean;
  fips: Array<{ fip: string; fixedIp: string; zone: number | undefined }>;
  zones: Array<{ iface: string; zone: number }>;
  snat: Array<{ zone: number; address: string; portRange?: { min: number; max: number } }>;
  routes: Array<{ table: number; dst: string; dev: string }>;
  rules: Array<{ family: 4 | 6; fwmark: string; table: number }>;
  proxies: string[];
  /** Chains whose rules differ from what this version writes (adopt/reconcile repairs them). */
  driftedChains: string[];
}

function host(ip: string): string {
  return `${ip}/${ip.includes(':') ? 128 : 32}`;
}

export class NatManager {
  readonly config: NatConfig;
  private readonly run: Runner;
  private readonly nft: NftClient;
  private readonly ownNft: boolean;
  /** Conntrack cleanups in flight after a fast-path change, by FIP (see clearConntrackLater). */
  private readonly clearing = new Map<string, Promise<void>>();
  private readonly warn: (m: string) => void;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly pending = new Set<Promise<void>>();
  /** Last applied desired state (validated), indexed for the single-FIP fast path. */
  private tenants = new Map<string, VTenant>();
  private fips = new Map<string, VFip>();
  private fixedIndex = new Map<string, string>();
  private ports = new Map<string, VPort>();
  private known = false;

  constructor(opts: NatManagerOptions) {
    const { netns, runner, nft, onWarning, ...rest } = opts;
    const config: NatConfig = { ...DEFAULT_CONFIG, ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) } as NatConfig;
    validateConfig(config);
    this.config = config;
    this.run = runner ?? processRunner(netns);
    this.nft = nft ?? nftHelper({ netns });
    this.ownNft = !nft;
    this.warn = onWarning ?? ((m) => process.stderr.write(`nat: ${m}\n`));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async must(cmd: string, args: string[], input?: string): Promise<string> {
    const r = await this.run(cmd, args, input);
    if (r.code !== 0) throw new NatError('NAT_KERNEL', cmd, args.join(' '), r.stderr.trim() || `exit ${r.code}`);
    return r.stdout;
  }

  /** One nft transaction (all or nothing); a refusal is a NatError quoting the script. */
  private async commit(batch: string): Promise<void> {
    const r = await this.nft.run(batch);
    if (r.code !== 0) throw new NatError('NAT_KERNEL', 'nft', scriptValue(batch), r.stderr.trim() || `exit ${r.code}`);
  }

  /** Ends the nft helper this manager started (an injected NftClient stays open). */
  close(): void {
    if (this.ownNft) this.nft.close();
  }

  // ---------------------------------------------------------------- reading

  async readNft(): Promise<NftCurrent> {
    const r = await this.nft.run(`list table inet ${this.config.table}`, true);
    if (r.code !== 0) {
      if (/No such file or directory|does not exist/i.test(r.stderr)) return NO_TABLE;
      throw new NatError('NAT_KERNEL', 'nft', `list table inet ${this.config.table}`, r.stderr.trim() || `exit ${r.code}`);
    }
    return parseNftJson(r.stdout, this.config.table);
  }

  async readPlumb(): Promise<PlumbState> {
    const c = this.config;
    const p = String(c.rtProto);
    const [r4, r6, u4, u6, px] = await Promise.all([
      this.must('ip', ['-N', '-j', '-4', 'route', 'show', 'table', 'all', 'proto', p]),
      this.must('ip', ['-N', '-j', '-6', 'route', 'show', 'table', 'all', 'proto', p]),
      this.must('ip', ['-N', '-j', '-4', 'rule', 'show']),
      this.must('ip', ['-N', '-j', '-6', 'rule', 'show']),
      this.must('ip', ['-j', 'neigh', 'show', 'proxy', 'dev', c.externalInterface]),
    ]);
    const s = emptyPlumb();
    parseRoutes(r4, s.routes);
    parseRoutes(r6, s.routes);
    parseRules(u4, 4, s.rules, c);
    parseRules(u6, 6, s.rules, c);
    parseProxies(px, s.routes, s.proxies);
    return s;
  }

  /** What the kernel has now (our table, routes, rules, proxies). */
  read(): Promise<NatSnapshot> {
    return this.serial(async () => {
      const [nft, pl] = await Promise.all([this.readNft(), this.readPlumb()]);
      // the SNAT map is keyed by zone . fixed IP with the FIP as value: index it by FIP once
      const zoneOfFip = new Map<string, number>();
      for (const [k, fip] of [...(nft.maps.fip4_snat ?? []), ...(nft.maps.fip6_snat ?? [])]) if (!zoneOfFip.has(fip)) zoneOfFip.set(fip, Number(k.split(' . ')[0]));
      const fips = [...(nft.maps.fip4_dnat ?? []), ...(nft.maps.fip6_dnat ?? [])].map(([fip, fixedIp]) => ({ fip, fixedIp, zone: zoneOfFip.get(fip) }));
      const skel = skeletonRules(this.config.externalInterface);
      const drifted = CHAIN_NAMES.filter((c) => c !== 'snat_tenants' && nft.table &&
        JSON.stringify(nft.chains[c] ?? null) !== JSON.stringify(skel[c as Exclude<ChainName, 'snat_tenants'>].map((r) => r.comment)));
      return {
        table: this.config.table,
        present: nft.table,
        fips,
        zones: [...(nft.maps.zone_by_iface ?? [])].map(([k, v]) => ({ iface: k.slice(1, -1), zone: Number(v) })),
        snat: (nft.chains.snat_tenants ?? []).flatMap(parseSnatComment),
        routes: [...pl.routes].map(([k, dev]) => ({ table: Number(k.split(' ')[0]), dst: k.split(' ')[1]!, dev })),
        rules: [...pl.rules].map(([k, table]) => ({ family: Number(k.split(' ')[0]) as 4 | 6, fwmark: markText(Number(k.split(' ')[1])), table })),
        proxies: [...pl.proxies],
        driftedChains: drifted,
      };
    });
  }

  // ---------------------------------------------------------------- whole state

  /**
   * Start-up: apply sysctls, create the table, maps and chains that are missing and
   * repair our skeleton chains, keeping every element, SNAT rule, route and rule that
   * is there. Nothing is flushed, so established flows keep going.
   */
  adopt(): Promise<ApplyResult> {
    return this.serial(async () => {
      await this.applySysctls();
      const cur = await this.readNft();
      const keep: NftDesired = {
        maps: Object.fromEntries(MAP_NAMES.map((m) => [m, new Map(cur.maps[m] ?? [])])) as Record<MapName, Map<string, string>>,
        chains: { ...skeletonRules(this.config.externalInterface), snat_tenants: (cur.chains.snat_tenants ?? []).flatMap(parseSnatComment).flatMap((s) => snatRules(snatTenant(s))) },
      };
      const d = diffNft(keep, cur, this.config.table);
      if (d.batch) await this.commit(d.batch);
      return { nftBatch: d.batch, ipLines: [], added: d.added, deleted: d.deleted, chainsRewritten: d.chains, conntrackCleared: [] };
    });
  }

  /** Makes the kernel match `desired`: validates all of it first, then applies only the difference. */
  reconcile(desired: NatDesired): Promise<ApplyResult> {
    return this.serial(async () => {
      const v = validateDesired(desired, this.config);
      await Promise.all(this.clearing.values());
      const wantNft = buildNft(v, this.config.externalInterface);
      const wantPl = buildPlumb(v, this.config);
      const [curNft, curPl] = await Promise.all([this.readNft(), this.readPlumb()]);
      const d = diffNft(wantNft, curNft, this.config.table);
      const p = diffPlumb(wantPl, curPl, this.config);
      await this.ipBatch(p.make);
      if (d.batch) await this.commit(d.batch);
      await this.ipBatch(p.brk);
      this.remember(v);
      const cleared = await this.clearConntrack(d.staleFips);
      await this.clearSnatConntrack(curNft.chains.snat_tenants ?? [], wantNft.chains.snat_tenants.map((r) => r.comment));
      if (this.config.mode === 'l2') {
        const before = new Set(curNft.maps.fip4_dnat?.keys() ?? []);
        for (const f of v.fips) if (f.fip.family === 4 && (!before.has(f.fip.text) || d.staleFips.includes(f.fip.text))) this.announce(f.fip.text);
      }
      return { nftBatch: d.batch, ipLines: [...p.make, ...p.brk], added: d.added, deleted: d.deleted, chainsRewritten: d.chains, conntrackCleared: cleared };
    });
  }

  /** The desired state as nft text (what `reconcile` would make the table look like). */
  renderDesired(desired: NatDesired): string {
    return render(buildNft(validateDesired(desired, this.config), this.config.externalInterface), this.config.table);
  }

  // ---------------------------------------------------------------- fast paths

  /** Adds one FIP (one transaction of 3 elements). Errors if the FIP is mapped elsewhere here. */
  addFip(fip: NatFip): Promise<ApplyResult> {
    return this.serial(async () => {
      const v = validateFip(fip, 'fip', this.tenants);
      const prev = this.fips.get(v.fip.text);
      if (prev && sameFip(prev, v)) return noop();
      if (prev) throw new NatError('NAT_FIP_CONFLICT', 'fip.fip', fip.fip, `already mapped to ${prev.fixedIp.text} of tenant ${prev.tenant.id}`);
      this.checkFixedFree(v, 'fip.fixedIp', fip.fixedIp);
      if (this.isSnatAddress(v.fip.text)) throw new NatError('NAT_FIP_CONFLICT', 'fip.fip', fip.fip, 'it is a SNAT address on this compute');
      return this.applyFip(undefined, v);
    });
  }

  /** Re-points an existing FIP to another fixed IP/tenant in one transaction; clears its old flows. */
  moveFip(fip: NatFip): Promise<ApplyResult> {
    return this.serial(async () => {
      const v = validateFip(fip, 'fip', this.tenants);
      const prev = this.fips.get(v.fip.text);
      if (!prev) throw new NatError('NAT_UNKNOWN_FIP', 'fip.fip', fip.fip);
      if (sameFip(prev, v)) return noop();
      this.checkFixedFree(v, 'fip.fixedIp', fip.fixedIp);
      return this.applyFip(prev, v);
    });
  }

  /** Removes one FIP (its conntrack entries follow, see applyFip); a FIP that is not here is a no-op. */
  removeFip(fip: string): Promise<ApplyResult> {
    return this.serial(async () => {
      const ip = parseIp(fip);
      if (!ip) throw new NatError('NAT_INVALID_FIP', 'fip', fip);
      const prev = this.fips.get(ip.text);
      if (!prev) return noop();
      return this.applyFip(prev, undefined);
    });
  }

  /** Adds or re-points the route to one local VM address (no nft change). */
  setPort(port: NatPort): Promise<ApplyResult> {
    return this.serial(async () => {
      const v = validatePort(port, 'port', this.tenants);
      const key = `${v.tenant.zone} ${v.fixedIp.text}`;
      const line = `route replace ${host(v.fixedIp.text)} dev ${v.iface} table ${v.tenant.table} proto ${this.config.rtProto}`;
      await this.ipBatch([line]);
      this.ports.set(key, v);
      return { ...noop(), ipLines: [line] };
    });
  }

  removePort(tenant: string, fixedIp: string): Promise<ApplyResult> {
    return this.serial(async () => {
      const t = this.tenants.get(tenant);
      const ip = parseIp(fixedIp);
      if (!t) throw new NatError('NAT_UNKNOWN_TENANT', 'tenant', tenant);
      if (!ip) throw new NatError('NAT_INVALID_ADDRESS', 'fixedIp', fixedIp);
      const key = `${t.zone} ${ip.text}`;
      if (!this.ports.has(key)) return noop();
      const line = `route del ${host(ip.text)} table ${t.table} proto ${this.config.rtProto}`;
      await this.ipBatch([line]);
      this.ports.delete(key);
      return { ...noop(), ipLines: [line] };
    });
  }

  /** Waits for background work (conntrack cleanup after fast-path changes, gratuitous ARPs) to finish. */
  async settle(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  // ---------------------------------------------------------------- internals

  /**
   * The fast path: one small transaction. It returns once the kernel has committed it;
   * the conntrack entries of a removed or re-pointed FIP are deleted right after, in the
   * background (settle() waits for them), and a FIP added again waits for that first so
   * the cleanup cannot hit its new flows.
   */
  private async applyFip(prev: VFip | undefined, next: VFip | undefined): Promise<ApplyResult> {
    const t = this.config.table;
    if (next) await this.clearing.get(next.fip.text);
    const lines: string[] = [];
    if (prev) for (const e of fipElements(prev)) lines.push(`delete element inet ${t} ${e.map} { ${e.key} }`);
    if (next) for (const e of fipElements(next)) lines.push(`add element inet ${t} ${e.map} { ${e.key} : ${e.value} }`);
    const make: string[] = [];
    const brk: string[] = [];
    if (this.config.mode === 'l2') {
      if (next && !prev) make.push(`route replace ${host(next.fip.text)} dev lo proto ${this.config.rtProto}`, `neigh replace proxy ${next.fip.text} dev ${this.config.externalInterface}`);
      if (prev && !next) brk.push(`neigh del proxy ${prev.fip.text} dev ${this.config.externalInterface}`, `route del ${host(prev.fip.text)} table ${MAIN} proto ${this.config.rtProto}`);
    }
    const batch = lines.join('\n') + '\n';
    await this.ipBatch(make);
    await this.commit(batch);
    await this.ipBatch(brk);
    if (prev) {
      this.fips.delete(prev.fip.text);
      this.fixedIndex.delete(`${prev.tenant.zone} ${prev.fixedIp.text}`);
    }
    if (next) {
      this.fips.set(next.fip.text, next);
      this.fixedIndex.set(`${next.tenant.zone} ${next.fixedIp.text}`, next.fip.text);
    }
    const cleared = prev ? this.clearConntrackLater(prev.fip.text) : [];
    if (next && next.fip.family === 4 && this.config.mode === 'l2') this.announce(next.fip.text);
    return { nftBatch: batch, ipLines: [...make, ...brk], added: next ? 3 : 0, deleted: prev ? 3 : 0, chainsRewritten: [], conntrackCleared: cleared };
  }

  private checkFixedFree(v: VFip, field: string, value: string): void {
    const other = this.fixedIndex.get(`${v.tenant.zone} ${v.fixedIp.text}`);
    if (other !== undefined && other !== v.fip.text) throw new NatError('NAT_FIXED_IP_CONFLICT', field, value, `tenant ${v.tenant.id} already maps it to ${other}`);
  }

  private isSnatAddress(ip: string): boolean {
    for (const t of this.tenants.values()) if (t.snat?.address.text === ip) return true;
    return false;
  }

  private remember(v: Validated): void {
    this.tenants = new Map(v.tenants.map((t) => [t.id, t]));
    this.fips = new Map(v.fips.map((f) => [f.fip.text, f]));
    this.fixedIndex = new Map(v.fips.map((f) => [`${f.tenant.zone} ${f.fixedIp.text}`, f.fip.text]));
    this.ports = new Map(v.ports.map((p) => [`${p.tenant.zone} ${p.fixedIp.text}`, p]));
    this.known = true;
  }

  /** True once a reconcile has told us the tenants (needed by the fast paths). */
  get ready(): boolean {
    return this.known;
  }

  private async ipBatch(lines: string[]): Promise<void> {
    const v6 = lines.filter((l) => l.startsWith('-6 ')).map((l) => l.slice(3));
    const rest = lines.filter((l) => !l.startsWith('-6 '));
    const errors: string[] = [];
    for (const [args, ls] of [[['-force', '-batch', '-'], rest], [['-6', '-force', '-batch', '-'], v6]] as const) {
      if (!ls.length) continue;
      const r = await this.run('ip', [...args], ls.join('\n') + '\n');
      if (r.code !== 0) errors.push(r.stderr.trim());
    }
    if (errors.length) throw new NatError('NAT_KERNEL', 'ip -batch', lines.join('; '), errors.join('; '));
  }

  private async applySysctls(): Promise<void> {
    await this.must('sysctl', ['-q', '-w', ...sysctls(this.config).map(([k, v]) => `${k}=${v}`)]);
  }

  /**
   * conntrack -D for flows to each FIP (DNAT) and flows translated to it (SNAT), all in one
   * `conntrack -R -` process (its batch mode: one command per line; exit 0 also when none matched).
   * Each delete walks the kernel's conntrack table (~2 ms here), so a mass removal takes a while.
   */
  private async clearConntrack(fips: string[]): Promise<string[]> {
    if (!fips.length) return fips;
    const lines = fips.flatMap((f) => {
      const fam = f.includes(':') ? '-f ipv6 ' : '';
      return [`-D ${fam}-d ${f}`, `-D ${fam}--reply-dst ${f}`];
    });
    // through `cat |`: conntrack opens /dev/stdin, which fails on the socket Node gives a child as stdin
    const r = await this.run('sh', ['-c', 'cat | conntrack -R -'], lines.join('\n') + '\n');
    if (r.code !== 0 && r.code !== 1) this.warn(`conntrack -R (${fips.length} FIPs from ${fips[0]}): ${r.stderr.trim() || `exit ${r.code}`}`);
    return fips;
  }

  /** clearConntrack of one FIP in the background, after any cleanup of it still running. */
  private clearConntrackLater(fip: string): string[] {
    const p = (this.clearing.get(fip) ?? Promise.resolve()).then(() => this.clearConntrack([fip])).then(() => undefined, (e: unknown) => this.warn(`conntrack ${fip}: ${String(e)}`));
    this.clearing.set(fip, p);
    this.pending.add(p);
    void p.finally(() => {
      this.pending.delete(p);
      if (this.clearing.get(fip) === p) this.clearing.delete(fip);
    });
    return [fip];
  }

  /** Flows SNATed to an address a tenant no longer uses go too (by zone and address). */
  private async clearSnatConntrack(before: string[], after: string[]): Promise<void> {
    const now = new Set(after.flatMap(parseSnatComment).map((s) => `${s.zone} ${s.address}`));
    const gone = new Set(before.flatMap(parseSnatComment).map((s) => `${s.zone} ${s.address}`).filter((k) => !now.has(k)));
    await Promise.all([...gone].map(async (k) => {
      const [zone, address] = k.split(' ') as [string, string];
      const r = await this.run('conntrack', ['-D', '--reply-dst', address, '--orig-zone', zone]);
      if (r.code !== 0 && r.code !== 1) this.warn(`conntrack -D --reply-dst ${address} --orig-zone ${zone}: ${r.stderr.trim()}`);
    }));
  }

  /** Gratuitous ARP for a FIP that now lives here (iputils `arping -U`, in the background). */
  private announce(fip: string): void {
    const p = this.run('arping', ['-U', '-c', '1', '-I', this.config.externalInterface, fip]).then((r) => {
      if (r.code !== 0) this.warn(`arping -U ${fip}: ${r.stderr.trim() || `exit ${r.code}`} (install iputils-arping)`);
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}

function sameFip(a: VFip, b: VFip): boolean {
  return a.fip.text === b.fip.text && a.fixedIp.text === b.fixedIp.text && a.tenant.zone === b.tenant.zone && a.tenant.mark === b.tenant.mark;
}

/** A script as the `value` of a NatError: whole when short, else its start and length. */
function scriptValue(batch: string): string {
  if (batch.length <= 600) return batch.trimEnd();
  let lines = 0;
  for (let i = batch.indexOf('\n'); i >= 0; i = batch.indexOf('\n', i + 1)) lines++;
  return `${batch.slice(0, 600)}… (${lines} lines, ${batch.length} bytes)`;
}

function noop(): ApplyResult {
  return { nftBatch: '', ipLines: [], added: 0, deleted: 0, chainsRewritten: [], conntrackCleared: [] };
}

/** Reads back the intent a snat_tenants rule comment states (`efn:snat:zone:addr[:min-max][:l4]`). */
export function parseSnatComment(c: string): Array<{ zone: number; address: string; portRange?: { min: number; max: number } }> {
  const m = /^efn:snat:(\d+):([0-9.]+)(?::(\d+)-(\d+))?$/.exec(c);
  if (!m) return [];
  const s: { zone: number; address: string; portRange?: { min: number; max: number } } = { zone: Number(m[1]), address: m[2]! };
  if (m[3] !== undefined) s.portRange = { min: Number(m[3]), max: Number(m[4]) };
  return [s];
}

function snatTenant(s: { zone: number; address: string; portRange?: { min: number; max: number } }): VTenant {
  const a = parseIp(s.address)!;
  return { id: `zone-${s.zone}`, zone: s.zone, mark: 0, table: 0, subnets: [], ifaces: [], snat: { address: a, portRange: s.portRange } };
}
