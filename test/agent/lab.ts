// Agent integration lab (root, netns, FRR, etcd): one compute namespace running the real
// `edgeflow agent` as a child process, an FRR ToR peering with it, a VM namespace behind
// the compute's tap, and etcd members spawned INSIDE the compute namespace on its
// loopback (the agent cannot reach the root namespace's loopback, and the test never
// puts an address in the root namespace). Everything the test does in there goes
// through `ip netns exec`: curl for the REST API, nft/ip for the kernel, vtysh for FRR,
// and store-tool.js for direct store writes.
//
//   <p>-tor  eth1 192.0.2.1/28 (FRR AS 65000) ──── eth1 192.0.2.11/28  <p>-c1 (agent AS 65011, etcd on 127.0.0.1)
//                                                   tap-vm1 10.0.0.1/24 ──── eth1 10.0.0.5/24  <p>-vm1
//
// Names: namespaces `<prefix>-tor|c1|vm1` (prefix starts with `efa-`).
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { Lab, nsRun, run, waitFor } from '../harness/netns.js';
import { frrBgpConfig, startFrr, type FrrHandle } from '../harness/frr.js';
import { ETCD_BIN } from '../harness/etcd.js';

export const EDGEFLOW_BIN = fileURLToPath(new URL('../../../bin/edgeflow.js', import.meta.url));
export const STORE_TOOL = fileURLToPath(new URL('./store-tool.js', import.meta.url));
export const HTTP_TOOL = fileURLToPath(new URL('./http-tool.js', import.meta.url));
export const TOKEN = 'efa-token';
export const API_PORT = 8179;
export const UPLINK = '192.0.2.11';
export const TOR = '192.0.2.1';

export interface EtcdSpec { clientPort: number; peerPort: number }

export interface AgentLabOptions {
  /** Namespace prefix, e.g. 'efa-drv'. */
  prefix: string;
  /** etcd members to run inside the compute namespace (none: only the embedded store is usable). */
  etcd?: EtcdSpec[];
  /** Extra ports vm-0 … vm-(n-1) on tap-vm1 with fixed IPs 10.0.1.0/… (for many FIPs). */
  extraPorts?: number;
  /** FIP network pool (default 198.51.100.10 – 198.51.100.250 in 198.51.100.0/24). */
  network?: { cidr: string; start: string; end: string };
  /** Tenant subnets (default 10.0.0.0/16). */
  tenantSubnet?: string;
}

/** One etcd process inside a namespace (restartable on the same data dir). */
export class NsEtcd {
  child?: ChildProcess;
  log = '';
  readonly dataDir: string;
  constructor(private readonly lab: Lab, readonly ns: string, readonly name: string, readonly spec: EtcdSpec, private readonly initialCluster: string) {
    this.dataDir = mkdtempSync(join(tmpdir(), `efa-etcd-${name}-`));
    lab.onCleanup(() => rmSync(this.dataDir, { recursive: true, force: true }));
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.spec.clientPort}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  spawn(): void {
    const peer = `http://127.0.0.1:${this.spec.peerPort}`;
    const child = this.lab.spawn(this.ns, ETCD_BIN, [
      '--name', this.name, '--data-dir', this.dataDir,
      '--listen-client-urls', this.endpoint, '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', this.initialCluster, '--initial-cluster-token', `efa-${this.ns}`, '--initial-cluster-state', 'new',
      '--heartbeat-interval', '50', '--election-timeout', '500', '--logger', 'zap', '--log-level', 'warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-4096)));
    this.child = child;
  }

  /** SIGKILL by pid (`ip netns exec` execs etcd, so the child's pid is etcd's); data kept. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || !this.running) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }

  /** GET /health through curl inside the namespace. */
  async healthy(): Promise<boolean> {
    const out = await nsRun(this.ns, 'curl', ['-s', '-m', '1', `${this.endpoint}/health`], { allowFail: true });
    return /"health":\s*"true"/.test(out);
  }

  /** This member's id and the leader it knows (gRPC gateway maintenance/status). */
  async status(): Promise<{ memberId: string; leader: string }> {
    const out = await nsRun(this.ns, 'curl', ['-s', '-m', '1', '-X', 'POST', '-d', '{}', `${this.endpoint}/v3/maintenance/status`]);
    const b = JSON.parse(out) as { header: { member_id: string }; leader: string };
    return { memberId: b.header.member_id, leader: b.leader };
  }
}

export interface ApiReply<T = any> { status: number; body: T }

export class AgentLab {
  readonly lab = new Lab();
  readonly tor: string;
  readonly c1: string;
  readonly vm1: string;
  readonly dir: string;
  readonly logFile: string;
  frr!: FrrHandle;
  etcd: NsEtcd[] = [];
  agent?: ChildProcess;
  private agentExit?: Promise<void>;

  constructor(readonly opts: AgentLabOptions) {
    if (!opts.prefix.startsWith('efa-')) throw new Error('agent lab prefix must start with efa-');
    this.tor = `${opts.prefix}-tor`;
    this.c1 = `${opts.prefix}-c1`;
    this.vm1 = `${opts.prefix}-vm1`;
    this.dir = mkdtempSync(join(tmpdir(), `${opts.prefix}-`));
    this.logFile = join(this.dir, 'agent.log');
    this.lab.onCleanup(() => rmSync(this.dir, { recursive: true, force: true }));
  }

  get etcdEndpoints(): string[] {
    return this.etcd.map((e) => e.endpoint);
  }

  /** Namespaces, links, FRR, etcd (healthy), bootstrap file. The agent is not started. */
  async up(): Promise<void> {
    const { lab, tor, c1, vm1 } = this;
    for (const ns of [tor, c1, vm1]) await lab.ns(ns);
    await lab.link(tor, 'eth1', `${TOR}/28`, c1, 'eth1', `${UPLINK}/28`);
    await lab.link(c1, 'tap-vm1', '10.0.0.1/24', vm1, 'eth1', '10.0.0.5/16');
    await nsRun(c1, 'ip', ['route', 'replace', 'default', 'via', TOR]);
    await nsRun(vm1, 'ip', ['route', 'replace', 'default', 'via', '10.0.0.1']);
    await nsRun(c1, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    const members = this.opts.etcd ?? [];
    const initial = members.map((m, i) => `m${i}=http://127.0.0.1:${m.peerPort}`).join(',');
    this.etcd = members.map((m, i) => new NsEtcd(lab, c1, `m${i}`, m, initial));
    for (const e of this.etcd) e.spawn();
    this.frr = await startFrr(lab, tor, {
      noKernel: true,
      config: frrBgpConfig({
        asn: 65000, routerId: TOR, hostname: tor,
        neighbors: [{ address: UPLINK, remoteAs: 65011, options: ['timers connect 1', 'advertisement-interval 0'] }],
      }),
    });
    for (const e of this.etcd) await waitFor(`etcd ${e.name} healthy`, () => e.healthy().then((h) => h || (e.running ? false : Promise.reject(new Error(e.log)))), 20000, 50);
    writeFileSync(join(this.dir, 'bootstrap.yaml'), this.bootstrapYaml());
  }

  bootstrapYaml(): string {
    const net = this.opts.network ?? { cidr: '198.51.100.0/24', start: '198.51.100.10', end: '198.51.100.250' };
    const ports = [
      `  - { id: vm1, tenant: t1, fixedIp: 10.0.0.5, chassis: compute1, interfaceName: tap-vm1 }`,
      `  - { id: vm2, tenant: t1, fixedIp: 10.0.0.6, chassis: compute1, interfaceName: tap-vm1 }`,
    ];
    for (let i = 0; i < (this.opts.extraPorts ?? 0); i++) {
      ports.push(`  - { id: vm-${i}, tenant: t1, fixedIp: ${portIp(i)}, chassis: compute1, interfaceName: tap-vm1 }`);
    }
    return [
      'chassis:',
      `  - { name: compute1, uplinkIp: ${UPLINK}, routerId: ${UPLINK}, localAsn: 65011, snatAddresses: [203.0.113.201], bgpNeighbors: [ { address: ${TOR}, asn: 65000 } ] }`,
      'network:',
      `  - { id: ext, name: public, cidr: ${net.cidr}, mode: l3, pools: [ { start: ${net.start}, end: ${net.end} } ] }`,
      'tenant:',
      `  - { id: t1, name: t1, subnets: [${this.opts.tenantSubnet ?? '10.0.0.0/16'}] }`,
      'speaker:',
      '  - { id: default, advertiseFipHostRoutes: true, advertiseSnatAddresses: false, advertiseTenantPrefixes: false, mode: per-chassis }',
      'port:',
      ...ports,
      '',
    ].join('\n');
  }

  /** Writes agent.yaml for the given store driver and returns its path. */
  writeConfig(driver: 'etcd' | 'embedded', extra: Record<string, unknown> = {}): string {
    const store = driver === 'etcd'
      ? `{ driver: etcd, endpoints: [${this.etcdEndpoints.map((e) => `"${e}"`).join(', ')}] }`
      : `{ driver: embedded, dir: ${join(this.dir, 'store')} }`;
    const lines = [
      'chassis: compute1',
      `store: ${store}`,
      `api: { address: 127.0.0.1, port: ${API_PORT}, token: ${TOKEN} }`,
      `bgp: { asn: 65011, routerId: ${UPLINK}, listen: { port: 0 }, neighbors: [ { address: ${TOR}, asn: 65000, holdTime: 9, connectRetry: 1 } ] }`,
      'nat: { externalInterface: eth1, mode: l3 }',
      'bootstrap: bootstrap.yaml',
      ...Object.entries(extra).map(([k, v]) => `${k}: ${JSON.stringify(v)}`),
      '',
    ];
    const file = join(this.dir, `agent-${driver}.yaml`);
    writeFileSync(file, lines.join('\n'));
    return file;
  }

  /** Starts `edgeflow agent` in the compute namespace (log appended to logFile); waits for its API. */
  async startAgent(config: string, nodeArgs: string[] = []): Promise<void> {
    if (this.agent && this.agent.exitCode === null && this.agent.signalCode === null) throw new Error('agent already running');
    writeFileSync(this.logFile, `--- start ${new Date().toISOString()} ${config}\n`, { flag: 'a' });
    const fd = openSync(this.logFile, 'a');
    const child = this.lab.spawn(this.c1, process.execPath, [...nodeArgs, EDGEFLOW_BIN, 'agent', '--config', config], { stdio: ['ignore', fd, fd], cwd: this.dir });
    closeSync(fd);
    this.agent = child;
    this.agentExit = new Promise((r) => child.once('exit', () => r()));
    await waitFor('agent API', async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`agent exited (${child.exitCode ?? child.signalCode}): ${this.logTail()}`);
      return (await this.api('GET', '/healthz')).status === 200;
    }, 30000, 100);
  }

  /** Signals the agent and waits for it to exit (SIGKILL after `graceMs`); true when it exited by itself. */
  async stopAgent(sig: NodeJS.Signals = 'SIGTERM', graceMs = 10000): Promise<boolean> {
    const c = this.agent;
    if (!c || c.exitCode !== null || c.signalCode !== null) return true;
    c.kill(sig);
    let t: NodeJS.Timeout | undefined;
    await Promise.race([this.agentExit, new Promise((r) => (t = setTimeout(r, graceMs)))]);
    clearTimeout(t);
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await this.agentExit;
      return sig === 'SIGKILL';
    }
    return true;
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no agent log)';
    }
  }

  /** One REST call to the agent, through curl inside the compute namespace. */
  async api<T = any>(method: string, path: string, body?: unknown): Promise<ApiReply<T>> {
    const args = ['-s', '-m', '10', '-X', method, '-H', `authorization: Bearer ${TOKEN}`, '-w', '\n%{http_code}'];
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
    args.push(`http://127.0.0.1:${API_PORT}${path}`);
    const out = await nsRun(this.c1, 'curl', args, { allowFail: true });
    const nl = out.lastIndexOf('\n');
    const status = Number(out.slice(nl + 1)) || 0;
    const text = out.slice(0, Math.max(0, nl));
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch { /* keep text */ }
    return { status, body: parsed as T };
  }

  /** Sends all `reqs` at once from inside the compute namespace (http-tool.js). */
  async parallel<T = any>(reqs: Array<{ method: string; path: string; body?: unknown }>): Promise<Array<ApiReply<T> & { ms: number }>> {
    const file = join(this.dir, `requests-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify(reqs));
    const out = await nsRun(this.c1, process.execPath, [HTTP_TOOL, `http://127.0.0.1:${API_PORT}`, TOKEN, file]);
    rmSync(file, { force: true });
    return JSON.parse(out) as Array<ApiReply<T> & { ms: number }>;
  }

  /** Runs store-tool.js inside the compute namespace against the lab's etcd. */
  async storeTool<T = any>(cmd: string, arg: unknown = {}): Promise<T> {
    const out = await nsRun(this.c1, process.execPath, [STORE_TOOL, this.etcdEndpoints.join(','), cmd, JSON.stringify(arg)]);
    return JSON.parse(out) as T;
  }

  // ---- kernel and ToR views -------------------------------------------------------

  /** `nft -j list table inet edgeflow` in the compute namespace (undefined when the table is absent). */
  async nftJson(handles = false): Promise<any[] | undefined> {
    const out = await nsRun(this.c1, 'nft', [...(handles ? ['-a'] : []), '-j', 'list', 'table', 'inet', 'edgeflow'], { allowFail: true });
    if (!out) return undefined;
    return (JSON.parse(out) as { nftables: any[] }).nftables;
  }

  /** FIP → fixed IP, from the DNAT map in the kernel. */
  async kernelFips(): Promise<Map<string, string>> {
    const items = (await this.nftJson()) ?? [];
    const out = new Map<string, string>();
    for (const it of items) {
      const m = it.map;
      if (!m || m.name !== 'fip4_dnat') continue;
      for (const e of m.elem ?? []) {
        const [k, v] = e as [unknown, unknown];
        out.set(String(k), String(v));
      }
    }
    return out;
  }

  /** Our policy routing and routes as the kernel has them (for "nothing changed" checks). */
  async kernelPlumb(): Promise<string> {
    return [
      await nsRun(this.c1, 'ip', ['-j', 'rule', 'show']),
      await nsRun(this.c1, 'ip', ['-j', 'route', 'show', 'table', 'all', 'proto', '188']),
    ].join('\n');
  }

  /** The ToR's IPv4 unicast table: prefix → next hops. */
  async torRoutes(): Promise<Map<string, string[]>> {
    const j = await this.frr.vtyshJson<{ routes?: Record<string, Array<{ nexthops?: Array<{ ip?: string }> }>> }>('show bgp ipv4 unicast json');
    const out = new Map<string, string[]>();
    for (const [p, paths] of Object.entries(j.routes ?? {})) out.set(p, paths.flatMap((x) => (x.nexthops ?? []).map((n) => n.ip ?? '')));
    return out;
  }

  async torState(): Promise<string> {
    const j = await this.frr.vtyshJson<Record<string, { bgpState?: string }>>(`show bgp neighbors ${UPLINK} json`);
    return j[UPLINK]?.bgpState ?? 'unknown';
  }

  async waitEstablished(timeoutMs = 30000): Promise<void> {
    await waitFor('BGP Established at the ToR', async () => (await this.torState()) === 'Established', timeoutMs, 100)
      .catch((e: Error) => { throw new Error(`${e.message}\nagent log:\n${this.logTail()}\nFRR:\n${this.frr.log().slice(-2000)}`); });
  }

  async status(): Promise<any> {
    return (await this.api('GET', '/api/v1/status')).body;
  }

  async down(): Promise<void> {
    await this.stopAgent('SIGKILL').catch(() => undefined);
    await this.lab.cleanup();
  }
}

/** Fixed IP of extra port i: 10.0.1.0 onwards (i < 65024 in 10.0.0.0/16). */
export function portIp(i: number): string {
  const n = 256 + i;
  return `10.0.${n >> 8}.${n & 255}`;
}

/** Generated FIP address k for big runs: 100.96.0.1 onwards, 250 per /24 (.1 – .250). */
export function rangeFipAddress(k: number): string {
  return `100.96.${Math.floor(k / 250)}.${(k % 250) + 1}`;
}

/** FIP create through the API; returns the FIP object. */
export async function createFip(l: AgentLab, portId: string, extra: Record<string, unknown> = {}): Promise<{ id: string; address: string }> {
  const r = await l.api('POST', '/api/v1/floatingips', { floatingip: { network: 'ext', portId, ...extra } });
  if (r.status !== 201) throw new Error(`POST /api/v1/floatingips: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.floatingip;
}

export { run, nsRun, waitFor };
