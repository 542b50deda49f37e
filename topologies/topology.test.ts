// Topology files: every topologies/*.clab.yml validates against the containerlab subset
// schema, its links name existing nodes and interfaces, its binds exist, its bootstrap
// intent parses with the store's own model, and the addressing in the clab file, the
// agent configs, the bootstrap and the ToR configs agrees. Plus the runner's pure parts:
// command splitting, FRR daemons file, plan (namespaces, links, daemons, path mapping).
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { checkReferences, KINDS, parseObject, type Kind, type KindMap } from '../store/index.js';
import { repoRoot, topologiesDir } from './runner/paths.js';
import { mapPaths, parseFrrDaemons, planLab, setFlag, splitCommand } from './runner/plan.js';
import { validateClabSchema } from './runner/schema.js';
import { loadTopology, parseTopology, type ClabTopology } from './runner/topology.js';

const files = readdirSync(topologiesDir()).filter((f) => f.endsWith('.clab.yml')).map((f) => join(topologiesDir(), f));

function load(file: string): ClabTopology {
  const r = loadTopology(file);
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return r.topology;
}

const MINIMAL = `name: t
topology:
  nodes:
    a: { kind: linux, image: alpine:3.19 }
    b: { kind: linux, image: alpine:3.19 }
  links:
    - endpoints: ["a:eth1", "b:eth1"]
`;

describe('topology files', () => {
  it('the three required topologies exist', () => {
    for (const n of ['frr-2computes', 'bird-2computes', 'frr-evpn']) assert.ok(files.some((f) => f.endsWith(`/${n}.clab.yml`)), n);
  });

  for (const file of files) {
    describe(file.split('/').pop()!, () => {
      it('validates against the containerlab schema subset', () => {
        assert.deepEqual(validateClabSchema(parseYaml(readFileSync(file, 'utf8'))), []);
      });
      it('links name defined nodes and valid, unique interfaces; binds exist', () => {
        const t = load(file);
        const names = new Set(t.nodes.map((n) => n.name));
        for (const l of t.links) for (const ep of [l.a, l.b]) assert.ok(names.has(ep.node), `${ep.node}`);
        for (const n of t.nodes) for (const b of n.binds) assert.ok(existsSync(b.source), `${n.name}: bind source ${b.source} is missing`);
      });
      it('has an FRR or BIRD ToR, etcd, two agents, two VMs and ext', () => {
        const p = planLab(load(file), { runDir: '/run/x', repoRoot: repoRoot() });
        assert.ok(p.ok, p.ok ? '' : p.errors.join('\n'));
        const roles = Object.fromEntries(p.plan.nodes.map((n) => [n.node, n.role]));
        assert.ok(roles.tor === 'frr' || roles.tor === 'bird');
        assert.equal(roles.etcd, 'etcd');
        assert.equal(roles.compute1, 'agent');
        assert.equal(roles.compute2, 'agent');
        for (const h of ['vm1', 'vm2', 'ext']) assert.equal(roles[h], 'host');
      });
      it('agent configs, bootstrap intent and ToR config agree with the clab addressing', () => checkConsistency(load(file)));
    });
  }
});

/** IPv4 addresses the node's exec lines put on `dev`. */
function addrsOn(t: ClabTopology, node: string): Array<{ addr: string; dev: string }> {
  const n = t.nodes.find((x) => x.name === node)!;
  return n.exec.map((l) => splitCommand(l)).filter((a) => a[1] === 'addr' && a[2] === 'add').map((a) => ({ addr: a[3]!.split('/')[0]!, dev: a[a.indexOf('dev') + 1]! }));
}

function bindSource(t: ClabTopology, node: string, target: string): string {
  const b = t.nodes.find((x) => x.name === node)!.binds.find((x) => x.target === target);
  assert.ok(b, `${node} binds ${target}`);
  return b.source;
}

function checkConsistency(t: ClabTopology): void {
  const torAddrs = addrsOn(t, 'tor').map((a) => a.addr);
  const torFile = t.nodes.find((n) => n.name === 'tor')!.binds[0]!.source;
  const torConf = readFileSync(torFile, 'utf8');
  for (const compute of ['compute1', 'compute2']) {
    const cfg = parseYaml(readFileSync(bindSource(t, compute, '/etc/edgeflow/agent.yaml'), 'utf8'));
    assert.equal(cfg.chassis, compute);
    const etcd = t.nodes.find((n) => n.name === 'etcd')!;
    assert.deepEqual(cfg.store, { driver: 'etcd', endpoints: [`http://${etcd.mgmtIpv4}:2379`] });
    assert.equal(cfg.api.port, 8179);
    const uplink = addrsOn(t, compute).find((a) => a.dev === cfg.nat.externalInterface);
    assert.ok(uplink, `${compute} has an address on ${cfg.nat.externalInterface}`);
    assert.equal(cfg.bgp.routerId, uplink.addr);
    const nb = cfg.bgp.neighbors[0];
    assert.ok(torAddrs.includes(nb.address), `${compute}'s neighbor ${nb.address} is a ToR address`);
    assert.equal(nb.asn, 65000);
    // The ToR peers with the compute's uplink address and AS.
    if (torFile.endsWith('.conf') && torConf.includes('router bgp')) {
      assert.match(torConf, new RegExp(`neighbor ${uplink.addr.replace(/\./g, '\\.')} remote-as ${cfg.bgp.asn}\\b`));
    } else {
      assert.match(torConf, new RegExp(`neighbor ${uplink.addr.replace(/\./g, '\\.')} as ${cfg.bgp.asn};`));
    }
    // The bootstrap file sits next to the agent config, as the relative path says.
    assert.equal(cfg.bootstrap, 'bootstrap.yaml');
    const boot = parseBootstrap(bindSource(t, compute, '/etc/edgeflow/bootstrap.yaml'));
    const chassis = boot.get('chassis')!.get(compute) as KindMap['chassis'];
    assert.equal(chassis.uplinkIp, uplink.addr);
    assert.equal(chassis.localAsn, cfg.bgp.asn);
    assert.deepEqual(chassis.bgpNeighbors.map((n) => [n.address, n.asn]), [[nb.address, nb.asn]]);
    // Every port bound to this chassis has its interface on the compute and its VM behind it.
    for (const port of boot.get('port')!.values() as IterableIterator<KindMap['port']>) {
      if (port.chassis !== compute) continue;
      const link = t.links.find((l) => (l.a.node === compute && l.a.iface === port.interfaceName) || (l.b.node === compute && l.b.iface === port.interfaceName));
      assert.ok(link, `${compute}:${port.interfaceName} is a link`);
      const vm = link.a.node === compute ? link.b : link.a;
      assert.ok(addrsOn(t, vm.node).some((a) => a.addr === port.fixedIp), `${vm.node} has ${port.fixedIp}`);
    }
  }
}

/** Parses a bootstrap file with the store's model: every object valid, every reference resolved. */
function parseBootstrap(file: string): Map<Kind, Map<string, unknown>> {
  const doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown[]>;
  const out = new Map<Kind, Map<string, unknown>>();
  for (const [kind, list] of Object.entries(doc)) {
    assert.ok((KINDS as readonly string[]).includes(kind), `${file}: ${kind} is a kind`);
    const m = new Map<string, unknown>();
    for (const obj of list) {
      const r = parseObject(kind as Kind, obj);
      assert.ok(r.ok, `${file}: ${kind} ${JSON.stringify(obj)}: ${r.ok ? '' : JSON.stringify(r.errors)}`);
      const v = r.value as { id?: string; name?: string };
      m.set(v.id ?? v.name!, r.value);
    }
    out.set(kind as Kind, m);
  }
  const lookup = (<K extends Kind>(kind: K, id: string) => out.get(kind)?.get(id) as KindMap[K] | undefined);
  for (const [kind, m] of out) {
    for (const v of m.values()) assert.deepEqual(checkReferences(kind, v as never, lookup), [], `${file}: ${kind} references`);
  }
  return out;
}

describe('bootstrap intent files', () => {
  for (const f of [join(topologiesDir(), 'common', 'bootstrap.yaml'), join(topologiesDir(), 'frr-evpn', 'bootstrap.yaml')]) {
    it(`${f.split('/').slice(-2).join('/')} parses with parseObject and its references resolve`, () => {
      const b = parseBootstrap(f);
      for (const k of ['chassis', 'network', 'tenant', 'port'] as const) assert.ok(b.get(k)?.size, `${k} present`);
      assert.deepEqual([...b.get('port')!.keys()].sort(), ['vm1', 'vm2']);
    });
  }
  it('the frr-evpn tenants carry an EVPN VRF (vni, router MAC) and an MPLS VRF', () => {
    const b = parseBootstrap(join(topologiesDir(), 'frr-evpn', 'bootstrap.yaml'));
    const blue = b.get('tenant')!.get('blue') as KindMap['tenant'];
    const red = b.get('tenant')!.get('red') as KindMap['tenant'];
    assert.equal((blue.vrf as { vni: number }).vni, 10100);
    assert.ok(red.vrf && !('vni' in red.vrf));
  });
});

describe('schema and cross-reference errors', () => {
  const errorsOf = (text: string): string[] => {
    const r = parseTopology(text, '/tmp/t.clab.yml');
    return r.ok ? [] : r.errors;
  };
  it('accepts a minimal topology', () => assert.deepEqual(errorsOf(MINIMAL), []));
  it('rejects an unknown top-level key (containerlab has no extensions)', () => {
    assert.match(errorsOf(`${MINIMAL}x-edgeflow: {}\n`).join('\n'), /unknown key "x-edgeflow"/);
  });
  it('rejects an unknown node key', () => {
    assert.match(errorsOf(MINIMAL.replace('image: alpine:3.19 }', 'image: alpine:3.19, addresses: [] }')).join('\n'), /unknown key "addresses"/);
  });
  it('rejects a link to a node that does not exist', () => {
    assert.match(errorsOf(MINIMAL.replace('"b:eth1"', '"c:eth1"')).join('\n'), /node c is not defined/);
  });
  it('rejects an interface name longer than 15 characters', () => {
    assert.notDeepEqual(errorsOf(MINIMAL.replace('"b:eth1"', '"b:averyveryverylongname"')), []);
  });
  it('rejects an interface used by two links', () => {
    assert.match(errorsOf(`${MINIMAL}    - endpoints: ["a:eth1", "b:eth2"]\n`).join('\n'), /a:eth1 is already used/);
  });
  it('rejects a link with three endpoints', () => {
    assert.notDeepEqual(errorsOf(MINIMAL.replace('"b:eth1"]', '"b:eth1", "b:eth2"]')), []);
  });
  it('rejects a management address outside the management subnet', () => {
    const t = `name: t\nmgmt: { ipv4-subnet: 100.64.0.0/24 }\ntopology:\n  nodes:\n    a: { kind: linux, image: x, mgmt-ipv4: 100.64.1.5 }\n`;
    assert.match(errorsOf(t).join('\n'), /outside 100\.64\.0\.0\/24/);
  });
  it('rejects kinds the runner cannot build and a node without a kind', () => {
    assert.match(errorsOf(MINIMAL.replace('a: { kind: linux', 'a: { kind: ceos')).join('\n'), /kind ceos/);
    assert.match(errorsOf(MINIMAL.replace('a: { kind: linux, ', 'a: { ')).join('\n'), /has no kind/);
  });
  it('takes the kind from topology.defaults', () => {
    const r = parseTopology(MINIMAL.replace('topology:\n', 'topology:\n  defaults: { kind: linux }\n').replace('a: { kind: linux, ', 'a: { '), '/tmp/t.clab.yml');
    assert.ok(r.ok);
  });
});

describe('runner plan', () => {
  it('splits command lines like a shell without expansion', () => {
    assert.deepEqual(splitCommand(`ip addr add 10.0.0.1/24 dev "tap vm"  'a b'\\ c`), ['ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'tap vm', 'a b c']);
    assert.deepEqual(splitCommand('  '), []);
    assert.throws(() => splitCommand('echo "x'), /unterminated/);
  });
  it('reads the FRR daemons file: zebra always, known daemons set to yes', () => {
    const r = parseFrrDaemons('bgpd=yes\nospfd=no\nbfdd=yes\npimd=yes\nvtysh_enable=yes\n');
    assert.deepEqual(r.daemons, ['zebra', 'bgpd', 'bfdd']);
    assert.deepEqual(r.ignored, ['pimd']);
  });
  it('maps frr-2computes onto namespaces, veths, a management bridge and daemons', () => {
    const t = load(join(topologiesDir(), 'frr-2computes.clab.yml'));
    const r = planLab(t, { runDir: '/run/lab', repoRoot: '/repo', nodeBin: '/usr/bin/node', etcdBin: '/usr/bin/etcd' });
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    const p = r.plan;
    assert.deepEqual(p.namespaces, ['ef-mgmt', 'ef-tor', 'ef-etcd', 'ef-compute1', 'ef-compute2', 'ef-vm1', 'ef-vm2', 'ef-ext']);
    assert.deepEqual(p.links[0], { a: { ns: 'ef-tor', iface: 'eth1' }, b: { ns: 'ef-compute1', iface: 'eth1' }, mtu: undefined });
    assert.deepEqual(p.mgmt?.ports.map((x) => [x.ns, x.address]), [['ef-etcd', '100.64.0.100/24'], ['ef-compute1', '100.64.0.11/24'], ['ef-compute2', '100.64.0.12/24']]);
    assert.equal(p.mgmt?.gateway, '100.64.0.1');
    assert.deepEqual(p.daemons.map((d) => `${d.type}:${d.node}`), ['etcd:etcd', 'frr:tor', 'agent:compute1', 'agent:compute2']);
    const agent = p.daemons.find((d) => d.node === 'compute1');
    assert.ok(agent?.type === 'agent');
    assert.deepEqual(agent.argv, ['/usr/bin/node', '/repo/bin/edgeflow.js', 'agent', '--config', '/run/lab/nodes/compute1/root/etc/edgeflow/agent.yaml']);
    assert.equal(agent.configFile, '/run/lab/nodes/compute1/root/etc/edgeflow/agent.yaml');
    assert.ok(p.binds.some((b) => b.path === '/run/lab/nodes/compute1/root/etc/edgeflow/bootstrap.yaml' && b.source.endsWith('topologies/common/bootstrap.yaml')));
    const etcd = p.daemons.find((d) => d.type === 'etcd');
    assert.ok(etcd?.type === 'etcd');
    assert.equal(etcd.clientUrl, 'http://100.64.0.100:2379');
    assert.ok(etcd.argv.includes('/run/lab/nodes/etcd/data') && !etcd.argv.includes('/etcd-data'));
    const frr = p.daemons.find((d) => d.type === 'frr');
    assert.ok(frr?.type === 'frr' && frr.instance === 'ef-tor' && frr.config.endsWith('frr-2computes/tor-frr.conf'));
    assert.ok(p.sysctls.some((s) => s.ns === 'ef-tor' && s.key === 'net.ipv4.ip_forward' && s.value === '1'));
    assert.ok(!p.sysctls.some((s) => s.ns === 'ef-vm1'));
    assert.deepEqual(p.commands.find((c) => c.ns === 'ef-vm1')?.argv, ['ip', 'addr', 'add', '10.0.0.5/24', 'dev', 'eth1']);
  });
  it('refuses exec lines other than ip and sysctl, and unknown commands', () => {
    const bad = MINIMAL.replace('a: { kind: linux, image: alpine:3.19 }', 'a: { kind: linux, image: alpine:3.19, exec: ["rm -rf /"], cmd: "sshd -D" }');
    const t = parseTopology(bad, '/tmp/t.clab.yml');
    assert.ok(t.ok);
    const r = planLab(t.topology, { runDir: '/r', repoRoot: '/repo' });
    assert.ok(!r.ok);
    assert.match(r.errors.join('\n'), /starts only etcd and edgeflow/);
  });
  it('maps container paths in arguments and sets flags', () => {
    const node = { binds: [{ source: '/src/a.yaml', target: '/etc/edgeflow/agent.yaml', readOnly: false }, { source: '/src/d', target: '/data', readOnly: false }] } as never;
    assert.deepEqual(mapPaths(['--config', '/etc/edgeflow/agent.yaml', '--dir=/data/x', '/etc/other'], node, '/root'), ['--config', '/root/etc/edgeflow/agent.yaml', '--dir=/root/data/x', '/etc/other']);
    assert.deepEqual(setFlag(['--data-dir', '/x', '--a'], '--data-dir', '/y'), ['--data-dir', '/y', '--a']);
    assert.deepEqual(setFlag(['--data-dir=/x'], '--data-dir', '/y'), ['--data-dir=/y']);
    assert.deepEqual(setFlag([], '--data-dir', '/y'), ['--data-dir', '/y']);
  });
});
