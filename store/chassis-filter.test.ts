import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChassisFilter } from './chassis-filter.js';
import type { FloatingIp, IntentObject, Kind, Port } from './model.js';
import type { IntentEvent } from './store.js';

let rev = 100;
const put = (kind: Kind, id: string, value: IntentObject, prev: IntentObject | null = null): IntentEvent => ({ type: 'put', kind, id, value, prev, revision: ++rev, createRevision: prev ? 1 : rev });
const del = (kind: Kind, id: string, prev: IntentObject): IntentEvent => ({ type: 'delete', kind, id, value: null, prev, revision: ++rev, createRevision: 0 });
const port = (id: string, chassis: string | null): Port => ({ id, tenant: 't', fixedIp: '10.0.0.5', chassis });
const fip = (id: string, portId: string | null, standbyPortId?: string): FloatingIp => ({ id, address: '198.51.100.7', network: 'ext', tenant: 't', portId, ...(standbyPortId ? { standbyPortId } : {}) });
const show = (evs: Array<{ type: string; kind: string; id: string }>): string[] => evs.map((e) => `${e.type} ${e.kind}/${e.id}`);

test('ports follow their binding; floating IPs follow their port', () => {
  const f = new ChassisFilter('c1');
  assert.deepEqual(show(f.feed(put('floatingip', 'f1', fip('f1', 'p1')))), []); // port unknown yet
  assert.deepEqual(show(f.feed(put('port', 'p1', port('p1', 'c1')))), ['put port/p1', 'put floatingip/f1']);
  assert.deepEqual(show(f.feed(put('port', 'p2', port('p2', 'c2')))), []);
  // Re-association to a port elsewhere: the FIP leaves c1.
  assert.deepEqual(show(f.feed(put('floatingip', 'f1', fip('f1', 'p2')))), ['delete floatingip/f1']);
  assert.deepEqual(show(f.feed(put('floatingip', 'f1', fip('f1', 'p1')))), ['put floatingip/f1']);
  // The port migrates away: FIP first, then the port.
  assert.deepEqual(show(f.feed(put('port', 'p1', port('p1', 'c2')))), ['delete floatingip/f1', 'delete port/p1']);
  // ...and back.
  assert.deepEqual(show(f.feed(put('port', 'p1', port('p1', 'c1')))), ['put port/p1', 'put floatingip/f1']);
  // Disassociated FIPs concern nobody.
  assert.deepEqual(show(f.feed(put('floatingip', 'f1', fip('f1', null)))), ['delete floatingip/f1']);
  assert.deepEqual(show(f.feed(put('floatingip', 'f1', fip('f1', 'p1')))), ['put floatingip/f1']);
  // Deleting the port drops its FIP from the chassis, with the last values.
  const out = f.feed(del('port', 'p1', port('p1', 'c1')));
  assert.deepEqual(show(out), ['delete floatingip/f1', 'delete port/p1']);
  assert.equal((out[0]!.value as FloatingIp).portId, 'p1');
  assert.equal(f.has('port', 'p1'), false);
});

test('make-before-break: the old chassis keeps the FIP until the new one reports active', () => {
  const c1 = new ChassisFilter('c1');
  const c2 = new ChassisFilter('c2');
  const both = (ev: IntentEvent): string[] => [...show(c1.feed(ev)).map((x) => `c1 ${x}`), ...show(c2.feed(ev)).map((x) => `c2 ${x}`)];
  both(put('port', 'p1', port('p1', 'c1')));
  both(put('floatingip', 'f1', { ...fip('f1', 'p1'), activeChassis: 'c1' }));
  assert.deepEqual(both(put('port', 'p1', port('p1', 'c2'))), ['c1 delete port/p1', 'c2 put port/p1', 'c2 put floatingip/f1']);
  assert.deepEqual(both(put('floatingip', 'f1', { ...fip('f1', 'p1'), activeChassis: 'c2' })), ['c1 delete floatingip/f1', 'c2 put floatingip/f1']);
});

test('a standby port brings the floating IP to its chassis too', () => {
  const f = new ChassisFilter('c2');
  f.feed(put('port', 'p1', port('p1', 'c1')));
  f.feed(put('port', 'p2', port('p2', 'c2')));
  assert.deepEqual(show(f.feed(put('floatingip', 'f1', fip('f1', 'p1', 'p2')))), ['put floatingip/f1']);
  assert.deepEqual(show(f.feed(put('floatingip', 'f1', fip('f1', 'p1')))), ['delete floatingip/f1']);
  // Updates of a relevant FIP are passed on; deletes too.
  f.feed(put('floatingip', 'f1', fip('f1', 'p2')));
  assert.deepEqual(show(f.feed(put('floatingip', 'f1', { ...fip('f1', 'p2'), activeChassis: 'c2' }))), ['put floatingip/f1']);
  assert.deepEqual(show(f.feed(del('floatingip', 'f1', fip('f1', 'p2')))), ['delete floatingip/f1']);
  assert.deepEqual(show(f.feed(del('floatingip', 'f1', fip('f1', 'p2')))), []);
});

test('global objects pass; other chassis and other speaker overrides do not', () => {
  const f = new ChassisFilter('c1');
  const ch = (name: string): IntentObject => ({ name, uplinkIp: '192.0.2.1', snatAddresses: [], localAsn: 65001, bgpNeighbors: [] });
  const sp = (id: string): IntentObject => ({ id, advertiseFipHostRoutes: true, advertiseSnatAddresses: true, advertiseTenantPrefixes: false, mode: 'per-chassis', standbyAsPathPrepend: 3, communities: {} });
  assert.deepEqual(show(f.feed(put('chassis', 'c1', ch('c1')))), ['put chassis/c1']);
  assert.deepEqual(show(f.feed(put('chassis', 'c2', ch('c2')))), []);
  assert.deepEqual(show(f.feed(put('speaker', 'default', sp('default')))), ['put speaker/default']);
  assert.deepEqual(show(f.feed(put('speaker', 'c1', sp('c1')))), ['put speaker/c1']);
  assert.deepEqual(show(f.feed(put('speaker', 'c2', sp('c2')))), []);
  assert.deepEqual(show(f.feed(put('network', 'ext', { id: 'ext', cidr: '198.51.100.0/24', pools: [], mode: 'l3' }))), ['put network/ext']);
  assert.deepEqual(show(f.feed(put('agent', 'c9', { chassis: 'c9', startedAt: '2024-01-01T00:00:00Z' }))), ['put agent/c9']);
  assert.deepEqual(show(f.feed(del('chassis', 'c1', ch('c1')))), ['delete chassis/c1']);
});

test('seed: a snapshot in any order yields what concerns the chassis', () => {
  const f = new ChassisFilter('c1');
  const stored = (kind: Kind, id: string, value: IntentObject) => ({ kind, id, value, createRevision: 1, modRevision: 1 });
  const initial = f.seed([stored('floatingip', 'f1', fip('f1', 'p1')), stored('floatingip', 'f2', fip('f2', 'p2')), stored('port', 'p2', port('p2', 'c2')), stored('port', 'p1', port('p1', 'c1'))]);
  assert.deepEqual(initial.map((o) => `${o.kind}/${o.id}`).sort(), ['floatingip/f1', 'port/p1']);
});

test('a put carries the object with its own revisions, also when its port brought it', () => {
  const f = new ChassisFilter('c1');
  f.feed(put('port', 'p1', port('p1', 'c2')));
  const fipRev = rev + 1;
  assert.deepEqual(f.feed(put('floatingip', 'f1', fip('f1', 'p1'))), []);
  // the port moves here: the FIP is emitted at the port's revision, but known is the FIP's last write
  const out = f.feed(put('port', 'p1', port('p1', 'c1'), port('p1', 'c2')));
  assert.deepEqual(show(out), ['put port/p1', 'put floatingip/f1']);
  assert.equal(out[1]!.revision, rev);
  assert.deepEqual(out[1]!.known, { value: fip('f1', 'p1'), createRevision: fipRev, modRevision: fipRev });
  assert.equal(out[0]!.known!.modRevision, rev);
  assert.equal(out[0]!.known!.createRevision, 1);
});
