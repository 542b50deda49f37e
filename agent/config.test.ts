// Agent config: the lab's files parse; bad fields are named; relative paths resolve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadAgentConfig, parseAgentConfig } from './config.js';
import { ConfigError } from '../bgp/config.js';

test('agent config: the lab config parses', () => {
  const c = loadAgentConfig(join(process.cwd(), 'topologies/common/compute1.agent.yaml'));
  assert.equal(c.chassis, 'compute1');
  assert.equal(c.store.driver, 'etcd');
  assert.equal(c.bgp.neighbors?.[0]?.bfd?.minTx, 100);
  assert.equal(c.nat.externalInterface, 'eth1');
  assert.equal(c.bootstrap, join(process.cwd(), 'topologies/common/bootstrap.yaml'));
});

test('agent config: defaults (embedded store) and named errors', () => {
  const d = parseAgentConfig({ chassis: 'c1' }, '/etc/edgeflow');
  assert.deepEqual(d.store, { driver: 'embedded', dir: '/var/lib/edgeflow' });
  assert.equal(d.api.port, 8179);
  assert.equal(d.bgp.listen.port, 0);
  const cases: Array<[unknown, string]> = [
    [{}, 'chassis'],
    [{ chassis: 'c1', store: { driver: 'zookeeper' } }, 'store.driver'],
    [{ chassis: 'c1', store: { driver: 'etcd', endpoints: [] } }, 'store.endpoints'],
    [{ chassis: 'c1', nat: { mode: 'l4' } }, 'nat.mode'],
    [{ chassis: 'c1', bgp: { routerId: 'x' } }, 'bgp.routerId'],
    [{ chassis: 'c1', bgp: { neighbors: [{ address: '192.0.2.1' }] } }, 'bgp.neighbors[0].asn'],
    [{ chassis: 'c1', api: { port: -1 } }, 'api.port'],
    [{ chassis: 'c1', extra: 1 }, 'extra'],
  ];
  for (const [raw, field] of cases) {
    assert.throws(() => parseAgentConfig(raw), (e: unknown) => e instanceof ConfigError && e.field === field, `expected an error naming ${field}`);
  }
});
