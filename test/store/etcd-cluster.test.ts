// A 3-member etcd cluster on loopback (daemons) loses its leader; a client that
// knows all three endpoints carries on: reads, writes, FIP allocation and a watch
// that misses nothing. Ports 24381-24383 (client) and 24392-24394 (peer).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openEtcdStore, type IntentEvent } from '../../store/index.js';
import { ETCD_SKIP, startEtcdCluster } from '../harness/etcd.js';
import { uid, until } from './conformance.js';

describe('etcd cluster (daemons: 3 etcd-server members on loopback)', { skip: ETCD_SKIP }, () => {
  test('losing the leader: reads, writes, allocation and watch carry on', async (t) => {
    const cluster = await startEtcdCluster({ clientPorts: [24381, 24382, 24383], peerPorts: [24392, 24393, 24394] });
    const s = openEtcdStore({ endpoints: cluster.endpoints, watchBackoffMs: { initial: 100, max: 500 } });
    t.after(async () => {
      await s.close();
      await cluster.destroy();
    });
    await s.put('tenant', { id: 't', subnets: ['10.0.0.0/24'] });
    await s.put('network', { id: 'ext', cidr: '198.51.100.0/24', pools: [{ start: '198.51.100.10', end: '198.51.100.250' }] });
    const seen: IntentEvent[] = [];
    const errors: Error[] = [];
    await s.watch({ fromRevision: (await s.revision()) + 1, kinds: ['floatingip'] }, (ev) => seen.push(ev), (e) => errors.push(e));
    const allocated: string[] = [];
    const allocate = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) allocated.push((await s.allocateFloatingIp({ network: 'ext', tenant: 't', id: uid('f') })).id);
    };
    await allocate(10);
    const leader = await cluster.leaderIndex();
    await cluster.members[leader]!.kill();
    // The remaining two members elect a new leader; calls retry onto them.
    await until('a new leader', async () => (await Promise.all(cluster.members.map((m) => (m.running ? m.healthy() : false)))).filter(Boolean).length === 2, 10000);
    await allocate(10);
    assert.equal((await s.get('tenant', 't'))?.value.id, 't');
    assert.equal((await s.list('floatingip')).items.length, 20);
    await until('watch caught up', () => seen.length >= 20, 10000);
    assert.deepEqual(errors, []);
    assert.deepEqual(seen.map((e) => e.id), allocated);
    assert.equal(new Set((await s.list('floatingip')).items.map((f) => f.value.address)).size, 20);
  });
});
