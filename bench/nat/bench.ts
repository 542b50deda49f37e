// NAT benchmark (run by hand as root: `node dist/bench/nat/bench.js`; prints a table,
// asserts nothing, writes bench/nat/RESULTS.md, keeping its "## Earlier run" sections).
// Control plane: nftables maps through NatManager (nft through the nftd helper, ip and
// conntrack through one shell, as the agent runs it), the same transactions with the
// `nft` tool (one process per call, the reference), and the rule-per-FIP iptables layout of Neutron's L3 agent (DNAT in
// neutron-l3-agent-PREROUTING and -OUTPUT, SNAT in neutron-l3-agent-float-snat, loaded with
// iptables-restore), both legacy and nft backends. Data plane: UDP through the compute
// namespace at 1 and at 10,000 FIPs, for both layouts.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { cpus, hostname, loadavg, release, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Lab, nsRun, run, waitFor } from '../../test/harness/netns.js';
import { DEFAULT_CONFIG, NatManager, buildNft, diffNft, nftHelper, processRunner, shellRunner, validateDesired, type NatDesired, type Runner } from '../../nat/index.js';
import { MAP_NAMES } from '../../nat/state.js';

const N = 10_000;
const CHANGES = Number(process.env.NAT_BENCH_CHANGES ?? 1000);
const IPT_CHANGES = Number(process.env.NAT_BENCH_IPT_CHANGES ?? 200);
const SELF = fileURLToPath(import.meta.url);
const UDP = fileURLToPath(new URL('./udp.js', import.meta.url));

const fipOf = (i: number): string => `100.64.${i >> 8}.${i & 255}`;
const fixedOf = (i: number): string => `10.0.${i >> 8}.${i & 255}`;

function desired(n: number): NatDesired {
  return {
    tenants: [{ id: 'bench', zone: 1, subnets: ['10.0.0.0/8'], ifaces: ['tapv'] }],
    ports: [],
    fips: Array.from({ length: n }, (_, i) => ({ fip: fipOf(i), tenant: 'bench', fixedIp: fixedOf(i) })),
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

type Row = [string, string, string, string];
const ms = (x: number): string => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
const p5099 = (xs: number[]): string => `${ms(pct(xs, 50))} / ${ms(pct(xs, 99))}`;
const FLUSH = MAP_NAMES.map((m) => `flush map inet edgeflow ${m}\n`).join('');
const changeFip = (i: number) => ({ fip: `100.65.${i >> 8}.${i & 255}`, tenant: 'bench', fixedIp: `10.1.${i >> 8}.${i & 255}` });

// ------------------------------------------------------------ control plane (inside the compute netns)

interface Control { rows: Row[]; notes: string[] }

async function control(): Promise<Control> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const sh = shellRunner();
  const helper = nftHelper();
  const nat = new NatManager({ externalInterface: 'eth0', runner: sh, nft: helper, onWarning: () => undefined });
  await nat.adopt();
  let installBatch = '';
  // install 5 times (the maps emptied by hand in between); the first runs cold (no JIT yet)
  const install: number[] = [];
  for (let i = 0; i < 5; i++) {
    if (i) await helper.run(FLUSH);
    install.push(await timed(async () => void (installBatch = (await nat.reconcile(desired(N))).nftBatch)));
  }
  // where an install goes, step by step (what reconcile does, called one by one; p50 of 3)
  const steps: Record<string, number[]> = { validate: [], build: [], 'read nft': [], 'read ip': [], diff: [], 'nft commit': [] };
  const cfg = { ...DEFAULT_CONFIG, externalInterface: 'eth0' };
  for (let i = 0; i < 3; i++) {
    await helper.run(FLUSH);
    const step = async <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
      const t = process.hrtime.bigint();
      const r = await fn();
      steps[name]!.push(Number(process.hrtime.bigint() - t) / 1e6);
      return r;
    };
    const v = await step('validate', () => validateDesired(desired(N), cfg));
    const want = await step('build', () => buildNft(v, 'eth0'));
    const cur = await step('read nft', () => nat.readNft());
    await step('read ip', () => nat.readPlumb());
    const d = await step('diff', () => diffNft(want, cur, 'edgeflow'));
    const r = await step('nft commit', () => helper.run(d.batch));
    if (r.code !== 0) throw new Error(r.stderr.slice(0, 500));
  }
  notes.push(`An install, step by step (p50 of 3, warm): ${Object.entries(steps).map(([k, xs]) => `${k} ${ms(pct(xs, 50))}`).join(', ')}. The commit is libnftables parsing 30,000 elements and the kernel taking them.`);
  const resync: number[] = [];
  for (let i = 0; i < 10; i++) resync.push(await timed(() => nat.reconcile(desired(N))));
  const add: number[] = [];
  const del: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const f = changeFip(i);
    add.push(await timed(() => nat.addFip(f)));
    del.push(await timed(() => nat.removeFip(f.fip)));
  }
  await nat.settle();
  // until the conntrack entries are gone too (the cleanup after the commit, waited for)
  const gone: number[] = [];
  for (let i = 0; i < 200; i++) {
    const f = changeFip(i);
    await nat.addFip(f);
    gone.push(await timed(async () => { await nat.removeFip(f.fip); await nat.settle(); }));
  }
  rows.push(['nftables maps (NatManager; nft through the nftd helper)', `${ms(pct(install.slice(1), 50))} (p50 of 4; the first, cold: ${ms(install[0]!)})`,
    `add ${p5099(add)}; del ${p5099(del)} (n=${CHANGES}; returns at the nft commit); del until its conntrack entries are gone ${p5099(gone)} (n=200)`, ms(pct(resync, 50))]);
  // where a no-op resync goes: the kernel read (nft JSON through the helper, ip JSON through the shell) vs the rest (JS)
  const readNft: number[] = [];
  const readPlumb: number[] = [];
  for (let i = 0; i < 10; i++) {
    readNft.push(await timed(() => nat.readNft()));
    readPlumb.push(await timed(() => nat.readPlumb()));
  }
  notes.push(`A no-op resync (p50 ${ms(pct(resync, 50))}) reads the kernel: the table as JSON through the helper (list + transfer + parse) p50 ${ms(pct(readNft, 50))}, routes/rules/proxies through the shell p50 ${ms(pct(readPlumb, 50))}; the rest is validating, building and diffing 10,000 FIPs in JS.`);
  // conntrack -D for one FIP (DNAT and SNAT flows) as NatManager runs it, through the shell vs spawned from Node
  const ct = (run: Runner, fip: string) => run('sh', ['-c', 'cat | conntrack -R -'], `-D -d ${fip}\n-D --reply-dst ${fip}\n`);
  const ctShell: number[] = [];
  const ctSpawn: number[] = [];
  const spawnRun = processRunner();
  for (let i = 0; i < 100; i++) {
    ctShell.push(await timed(() => ct(sh, changeFip(i).fip)));
    ctSpawn.push(await timed(() => ct(spawnRun, changeFip(i).fip)));
  }
  notes.push(`Conntrack cleanup of one FIP (\`-D -d FIP\` and \`-D --reply-dst FIP\` in one \`conntrack -R -\` batch), off the latency path since this run: through the persistent shell p50 / p99 ${p5099(ctShell)}, spawned from Node ${p5099(ctSpawn)} (n=100, empty conntrack table).`);
  nat.close();
  helper.close();
  sh.close();
  // the reference: the same transactions with the nft tool, one process per call
  const r = processRunner();
  const nft = async (args: string[], input?: string): Promise<void> => {
    const x = await r('nft', args, input);
    if (x.code !== 0) throw new Error(`nft ${args.join(' ')}: ${x.stderr.slice(0, 500)}`);
  };
  // the install batch is the elements (adopt made the table): empty the maps, send it again
  const toolInstall: number[] = [];
  for (let i = 0; i < 4; i++) {
    await nft(['-f', '-'], FLUSH);
    toolInstall.push(await timed(() => nft(['-f', '-'], installBatch)));
  }
  const toolList: number[] = [];
  for (let i = 0; i < 10; i++) toolList.push(await timed(() => nft(['-j', 'list', 'table', 'inet', 'edgeflow'])));
  const toolAdd: number[] = [];
  const toolDel: number[] = [];
  for (let i = 0; i < IPT_CHANGES; i++) {
    const { fip, fixedIp } = changeFip(i);
    toolAdd.push(await timed(() => nft(['-f', '-'], `add element inet edgeflow fip4_dnat { ${fip} : ${fixedIp} }\nadd element inet edgeflow fip4_snat { 1 . ${fixedIp} : ${fip} }\nadd element inet edgeflow fip4_mark { ${fip} : 0x00ef0001 }\n`)));
    toolDel.push(await timed(() => nft(['-f', '-'], `delete element inet edgeflow fip4_dnat { ${fip} }\ndelete element inet edgeflow fip4_snat { 1 . ${fixedIp} }\ndelete element inet edgeflow fip4_mark { ${fip} }\n`)));
  }
  rows.push(['`nft` tool, one process per call (reference: the same transactions, no conntrack)', `${ms(pct(toolInstall, 50))} (p50 of 4; the same batch: 30,000 elements, 3 per FIP)`,
    `add ${p5099(toolAdd)}; del ${p5099(toolDel)} (n=${IPT_CHANGES})`, `${ms(pct(toolList, 50))} (\`nft -j list table\` only: the read a resync needs)`]);
  await nft(['delete', 'table', 'inet', 'edgeflow']);
  for (const tool of ['iptables-legacy', 'iptables-nft']) rows.push(await iptables(tool));
  return { rows, notes };
}

async function iptables(tool: string): Promise<Row> {
  const r = processRunner();
  const restore = `${tool}-restore`;
  const rules = ['*nat', ':neutron-l3-agent-PREROUTING - [0:0]', ':neutron-l3-agent-OUTPUT - [0:0]', ':neutron-l3-agent-float-snat - [0:0]',
    '-A PREROUTING -j neutron-l3-agent-PREROUTING', '-A OUTPUT -j neutron-l3-agent-OUTPUT', '-A POSTROUTING -j neutron-l3-agent-float-snat'];
  for (let i = 0; i < N; i++) {
    rules.push(`-A neutron-l3-agent-PREROUTING -d ${fipOf(i)}/32 -j DNAT --to-destination ${fixedOf(i)}`,
      `-A neutron-l3-agent-OUTPUT -d ${fipOf(i)}/32 -j DNAT --to-destination ${fixedOf(i)}`,
      `-A neutron-l3-agent-float-snat -s ${fixedOf(i)}/32 -j SNAT --to-source ${fipOf(i)}`);
  }
  const full = rules.join('\n') + '\nCOMMIT\n';
  const must = async (cmd: string, args: string[], input?: string): Promise<string> => {
    const x = await r(cmd, args, input);
    if (x.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${x.stderr}`);
    return x.stdout;
  };
  const install = await timed(() => must(restore, [], full));
  const save: number[] = [];
  for (let i = 0; i < 10; i++) save.push(await timed(() => must(`${tool}-save`, ['-t', 'nat'])));
  const add: number[] = [];
  const del: number[] = [];
  for (let i = 0; i < IPT_CHANGES; i++) {
    const f = `100.65.${i >> 8}.${i & 255}`;
    const x = `10.1.${i >> 8}.${i & 255}`;
    const lines = (op: string): string => `*nat\n${op} neutron-l3-agent-PREROUTING -d ${f}/32 -j DNAT --to-destination ${x}\n${op} neutron-l3-agent-OUTPUT -d ${f}/32 -j DNAT --to-destination ${x}\n${op} neutron-l3-agent-float-snat -s ${x}/32 -j SNAT --to-source ${f}\nCOMMIT\n`;
    add.push(await timed(() => must(restore, ['--noflush'], lines('-A'))));
    del.push(await timed(() => must(restore, ['--noflush'], lines('-D'))));
  }
  await must(restore, [], '*nat\nCOMMIT\n');
  return [`${tool}, rule per FIP (Neutron layout, 3 rules/FIP)`, `${install.toFixed(0)} ms`,
    `add ${pct(add, 50).toFixed(1)} / ${pct(add, 99).toFixed(1)} ms; del ${pct(del, 50).toFixed(1)} / ${pct(del, 99).toFixed(1)} ms (n=${IPT_CHANGES}, restore --noflush of 3 rules; Neutron itself re-restores the whole table: ≈ install time)`,
    `${pct(save, 50).toFixed(0)} ms (save -t nat only)`];
}

// ------------------------------------------------------------ data plane (namespaces)

async function dataplane(lab: Lab): Promise<Row[]> {
  const [E, Cn, V] = ['efn-bench-ext', 'efn-bench-c', 'efn-bench-vm'];
  const dir = mkdtempSync(`${tmpdir()}/efn-bench-`);
  const one = `${dir}/one.txt`;
  const all = `${dir}/all.txt`;
  writeFileSync(one, `${fipOf(N - 1)}\n`);
  writeFileSync(all, Array.from({ length: N }, (_, i) => fipOf(i)).join('\n') + '\n');
  // The VM answers for the whole fixed range (AnyIP) and counts what arrives.
  await nsRun(V, 'ip', ['route', 'add', 'local', '10.0.0.0/16', 'dev', 'lo']);
  const sink = lab.spawn(V, process.execPath, [UDP, 'sink', '9']);
  let last = '';
  sink.stdout!.on('data', (d: Buffer) => (last = d.toString().trim().split('\n').pop() ?? ''));
  await waitFor('sink', () => last === 'ready', 5000, 20);
  const count = async (): Promise<number> => {
    last = '';
    sink.stdin!.write('\n');
    await waitFor('sink count', () => /^\d+$/.test(last), 5000, 5);
    return Number(last);
  };
  const load = async (dst: string, seconds: number): Promise<string> => {
    await nsRun(Cn, 'conntrack', ['-F'], { allowFail: true });
    const before = await count();
    const sent = Number(await nsRun(E, process.execPath, [UDP, 'send', dst, '9', String(seconds)]));
    await new Promise((r) => setTimeout(r, 300));
    const got = (await count()) - before;
    return `${Math.round(got / seconds / 1000)} kpps delivered (${Math.round(sent / seconds / 1000)} kpps sent)`;
  };
  const rows: Row[] = [];
  const nat = new NatManager({ externalInterface: 'eth0', netns: Cn, onWarning: () => undefined });
  await nat.adopt();
  // Via the VM's address: one neighbour entry, not 10,000 (gc_thresh3 is 1024).
  await nsRun(Cn, 'ip', ['route', 'add', '10.0.0.0/16', 'via', '10.255.0.2', 'dev', 'tapv', 'table', '10001']);
  await nat.reconcile({ ...desired(0), fips: [{ fip: fipOf(N - 1), tenant: 'bench', fixedIp: fixedOf(N - 1) }] });
  rows.push(['nftables maps, 1 FIP', await load(one, 3), '', '']);
  await nat.reconcile(desired(N));
  rows.push(['nftables maps, 10,000 FIPs (one flow to the last FIP)', await load(one, 3), '', '']);
  rows.push(['nftables maps, 10,000 FIPs (round robin over all FIPs)', await load(all, 3), '', '']);
  nat.close();
  await nsRun(Cn, 'nft', ['delete', 'table', 'inet', 'edgeflow']);
  await nsRun(Cn, 'ip', ['route', 'add', '10.0.0.0/16', 'via', '10.255.0.2', 'dev', 'tapv']);
  const rules = ['*nat', ':neutron-l3-agent-PREROUTING - [0:0]', '-A PREROUTING -j neutron-l3-agent-PREROUTING'];
  for (let i = 0; i < N; i++) rules.push(`-A neutron-l3-agent-PREROUTING -d ${fipOf(i)}/32 -j DNAT --to-destination ${fixedOf(i)}`);
  await nsRun(Cn, 'iptables-legacy-restore', [], { input: rules.join('\n') + '\nCOMMIT\n' });
  rows.push(['iptables-legacy, 10,000 FIPs (one flow to the last FIP)', await load(one, 3), '', '']);
  rows.push(['iptables-legacy, 10,000 FIPs (round robin over all FIPs)', await load(all, 3), '', '']);
  return rows;
}

async function main(): Promise<void> {
  if (process.argv[2] === 'control') {
    console.log(JSON.stringify(await control()));
    process.exit(0);
  }
  const lab = new Lab();
  try {
    for (const ns of ['efn-bench-ext', 'efn-bench-c', 'efn-bench-vm']) await lab.ns(ns);
    await lab.link('efn-bench-ext', 'eth0', '192.0.2.1/24', 'efn-bench-c', 'eth0', '192.0.2.2/24');
    await lab.link('efn-bench-vm', 'eth0', '10.255.0.2/24', 'efn-bench-c', 'tapv', '10.255.0.1/24');
    await nsRun('efn-bench-ext', 'ip', ['route', 'add', '100.64.0.0/10', 'via', '192.0.2.2']);
    await nsRun('efn-bench-vm', 'ip', ['route', 'add', 'default', 'via', '10.255.0.1']);
    const load0 = loadavg()[0]!.toFixed(1);
    const spawnMs: number[] = [];
    for (let i = 0; i < 20; i++) spawnMs.push(await timed(() => processRunner()('true', [])));
    const ctl = await new Promise<string>((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', 'efn-bench-c', process.execPath, SELF, 'control'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`control worker exited ${code}`))));
    });
    const control = JSON.parse(ctl) as Control;
    const data = await dataplane(lab);
    const date = new Date().toISOString().slice(0, 10);
    const [nftV, iptV] = await Promise.all([run('nft', ['--version']), run('iptables-legacy', ['--version'])]);
    const md = [
      `# NAT benchmark results`, '',
      `${date} · ${hostname()} · ${cpus().length} × ${cpus()[0]?.model ?? '?'} · kernel ${release()} · Node ${process.version} · ${nftV.trim()} · ${iptV.trim()}`, '',
      `Machine load while measuring: load average ${load0} at start, ${loadavg()[0]!.toFixed(1)} at the end; spawning \`true\` took p50 ${pct(spawnMs, 50).toFixed(1)} ms (every call of a tool from Node pays this: the iptables and \`nft\` tool rows). Numbers taken on a loaded machine are upper bounds.`, '',
      `Control plane, ${N.toLocaleString('en')} FIPs (single-change latencies p50 / p99). NatManager sends each nft transaction to its nftd helper (nat/nftd.py: one python3-nftables process holding one libnftables context), so a change spawns no process; a removed FIP's conntrack entries are deleted right after the commit, through the shell (nat/shell.ts), and the call does not wait for that:`, '',
      '| layout | install 10,000 FIPs, one transaction | one FIP change with 10,000 present | full resync, nothing to change |',
      '|---|---|---|---|',
      ...control.rows.map((r) => `| ${r.join(' | ')} |`), '',
      ...control.notes.flatMap((n) => [n, '']),
      'Data plane: 64-byte UDP from the external namespace through the compute namespace (DNAT, policy routing) to the VM namespace, 3 s per run, conntrack flushed before each run; sender and sink are single Node processes (the sender is the bottleneck), so compare rows, not absolute numbers. Round robin: each FIP is a new conntrack flow on its first packet.', '',
      '| layout | UDP |', '|---|---|',
      ...data.map((r) => `| ${r[0]} | ${r[1]} |`), '',
      'Reproduce: `npx tsc -p . && node dist/bench/nat/bench.js` as root (env NAT_BENCH_CHANGES, NAT_BENCH_IPT_CHANGES).', '',
    ].join('\n');
    process.stdout.write(md);
    const out = fileURLToPath(new URL('../../../bench/nat/RESULTS.md', import.meta.url));
    const old = existsSync(out) ? readFileSync(out, 'utf8') : '';
    const earlier = old.indexOf('\n## Earlier run');
    writeFileSync(out, earlier < 0 ? md : `${md}${old.slice(earlier)}`);
  } finally {
    await lab.cleanup();
  }
}

await main();
