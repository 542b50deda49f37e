// intentFromObjects and settings resolution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntentIndex, intentFromObjects, DEFAULT_SETTINGS } from './intent.js';
import { routesForChassis } from './routes.js';
import { chassis, fip, site, SETTINGS, NET } from './testing/fixture.js';

test('intentFromObjects sorts store items by kind; the result drives routesForChassis', () => {
  const s = site({ floatingIps: [fip('f1', '198.51.100.7', 'p1')] });
  const items = [
    ...s.chassis.map((value) => ({ kind: 'chassis' as const, value })),
    ...s.networks.map((value) => ({ kind: 'network' as const, value })),
    ...s.tenants.map((value) => ({ kind: 'tenant' as const, value })),
    ...s.ports.map((value) => ({ kind: 'port' as const, value })),
    ...s.floatingIps.map((value) => ({ kind: 'floatingip' as const, value })),
    ...s.speakers!.map((value) => ({ kind: 'speaker' as const, value })),
    { kind: 'agent' as const, value: { chassis: 'c1', startedAt: '2024-01-01T00:00:00Z' } },
  ].reverse();
  const i = intentFromObjects(items);
  assert.equal(i.chassis.length, 3);
  assert.equal(i.floatingIps.length, 1);
  assert.deepEqual(i.agents, [{ chassis: 'c1', startedAt: '2024-01-01T00:00:00Z' }]);
  assert.deepEqual(routesForChassis(i, 'c1'), routesForChassis(s, 'c1'));
});

test('settings: chassis override, then default, then built-in defaults; vrfRoutes defaults to add', () => {
  const ix = new IntentIndex({ chassis: [chassis('c1', 11)], networks: [NET], tenants: [], ports: [], floatingIps: [], speakers: [SETTINGS, { ...SETTINGS, id: 'c1', mode: 'central' }] });
  assert.equal(ix.settingsFor('c1').mode, 'central');
  assert.equal(ix.settingsFor('c2').mode, 'per-chassis');
  assert.equal(ix.settingsFor('c2').vrfRoutes, 'add');
  assert.equal(ix.settingsFor('c2', { vrfRoutes: 'replace' }).vrfRoutes, 'replace');
  const bare = new IntentIndex({ chassis: [], networks: [], tenants: [], ports: [], floatingIps: [] });
  assert.deepEqual({ ...bare.settingsFor('c1') }, { ...DEFAULT_SETTINGS, vrfRoutes: 'add' });
  assert.equal(bare.alive, undefined, 'no liveness records given: liveness not judged');
});
