import assert from 'node:assert/strict';
import { test } from 'node:test';
import { natDrift } from './drift.js';
import { DEFAULT_CONFIG, buildNft, buildPlumb, validateDesired, type NatConfig, type NatDesired, type NatManager, type NftCurrent, type PlumbState } from '../nat/index.js';

const config: NatConfig = { ...DEFAULT_CONFIG, externalInterface: 'eth1', mode: 'l2' };
const model: NatDesired = {
  tenants: [{ id: 't1', zone: 1, subnets: ['10.0.0.0/24'], ifaces: ['tap-a', 'tap-b'] }],
  ports: [{ tenant: 't1', fixedIp: '10.0.0.5', iface: 'tap-a' }, { tenant: 't1', fixedIp: '10.0.0.6', iface: 'tap-b' }],
  fips: [{ fip: '203.0.113.5', tenant: 't1', fixedIp: '10.0.0.5' }, { fip: '203.0.113.6', tenant: 't1', fixedIp: '10.0.0.6' }],
};

/** What the kernel would hold had `d` been applied, as NatManager reads it back. */
function kernel(d: NatDesired): { nft: NftCurrent; plumb: PlumbState } {
  const v = validateDesired(d, config);
  const want = buildNft(v, config.externalInterface);
  const chains = Object.fromEntries(Object.entries(want.chains).map(([c, rules]) => [c, rules.map((r) => r.comment)]));
  return { nft: { table: true, maps: want.maps, chains }, plumb: buildPlumb(v, config) };
}

const reader = (k: { nft: NftCurrent; plumb: PlumbState }): NatManager =>
  ({ config, readNft: async () => k.nft, readPlumb: async () => k.plumb }) as unknown as NatManager;

test('natDrift: nothing differs when the kernel is the model', async () => {
  const d = await natDrift(reader(kernel(model)), model);
  assert.deepEqual([d.structural, d.fips, d.hosts], [[], [], []]);
});

test('natDrift names the FIP and the fixed IP that differ, and structure apart', async () => {
  // FIP .6 missing everywhere (maps, proxy, dev lo route), port .5 routed to another tap
  const k = kernel({ ...model, fips: [model.fips[0]!] });
  k.plumb.routes.set(`${config.tableBase + 1} 10.0.0.5/32`, 'tap-x');
  const d = await natDrift(reader(k), model);
  assert.deepEqual(d.structural, []);
  assert.deepEqual(d.fips, ['203.0.113.6']);
  assert.deepEqual(d.hosts, ['10.0.0.5']);
  assert.ok(d.nftDeleted === 0 && d.nftAdded >= 3, `${d.nftAdded} elements to add`);

  // a rule added to our chain, a zone map element and a policy rule that went are structural
  const s = kernel(model);
  s.nft.chains.snat_tenants = ['a rule someone added'];
  s.nft.maps.zone_by_iface!.delete('"tap-b"');
  s.plumb.rules.clear();
  const ds = await natDrift(reader(s), model);
  assert.deepEqual(ds.fips, []);
  assert.ok(ds.structural.includes('chain snat_tenants') && ds.structural.includes('map zone_by_iface') && ds.structural.some((x) => x.startsWith('rule ')), ds.structural.join(', '));
});
