// Placement: roles of each chassis for a FIP through a move and with a standby, and the
// activeChassis writes an agent owes (claim after programming, release when nobody takes over).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fipRole, fipsOfChassis, placeFip, statusUpdates } from './placement.js';
import { fip, site } from './testing/fixture.js';

const roles = (f: ReturnType<typeof fip>, over = {}): string[] => ['c1', 'c2', 'c3'].map((c) => fipRole(site(over), f, c));

test('roles through a planned move c1 → c2', () => {
  assert.deepEqual(roles(fip('f', '198.51.100.7', 'p1')), ['active', 'none', 'none'], 'no status yet');
  assert.deepEqual(roles(fip('f', '198.51.100.7', 'p1', { activeChassis: 'c1' })), ['active', 'none', 'none']);
  assert.deepEqual(roles(fip('f', '198.51.100.7', 'p2', { activeChassis: 'c1' })), ['draining', 'active', 'none']);
  assert.deepEqual(roles(fip('f', '198.51.100.7', 'p2', { activeChassis: 'c2' })), ['none', 'active', 'none']);
  assert.deepEqual(roles(fip('f', '198.51.100.7', 'p2', { activeChassis: 'c3' })), ['none', 'active', 'draining'], 'whoever the status names carries it until c2 confirms');
});

test('roles with a standby, and active/standby swapped (old active drains first, then stands by)', () => {
  assert.deepEqual(roles(fip('f', '198.51.100.7', 'p1', { standbyPortId: 'p2', activeChassis: 'c1' })), ['active', 'standby', 'none']);
  assert.deepEqual(roles(fip('f', '198.51.100.7', 'p2', { standbyPortId: 'p1', activeChassis: 'c1' })), ['draining', 'active', 'none']);
  assert.deepEqual(roles(fip('f', '198.51.100.7', 'p2', { standbyPortId: 'p1', activeChassis: 'c2' })), ['standby', 'active', 'none']);
});

test('placement exposes intended, standby and carrier chassis', () => {
  const p = placeFip(site(), fip('f', '198.51.100.7', 'p2', { standbyPortId: 'p1', activeChassis: 'c1' }));
  assert.deepEqual({ intended: p.intended, standby: p.standby, carrier: p.carrier, moving: p.moving }, { intended: 'c2', standby: 'c1', carrier: 'c1', moving: true });
  const hidden = placeFip(site({ ports: [] }), fip('f', '198.51.100.7', 'p2', { activeChassis: 'c1' }));
  assert.deepEqual({ intended: hidden.intended, carrier: hidden.carrier, moving: hidden.moving }, { intended: undefined, carrier: 'c1', moving: true });
});

test('statusUpdates: claim after a move, release when nobody takes over, nothing in steady state', () => {
  const moving = site({ floatingIps: [fip('f1', '198.51.100.7', 'p2', { activeChassis: 'c1' }), fip('f2', '198.51.100.8', 'p1', { activeChassis: 'c1' })] });
  assert.deepEqual(statusUpdates(moving, 'c2'), [{ fipId: 'f1', activeChassis: 'c2', previous: 'c1', reason: 'claim' }]);
  assert.deepEqual(statusUpdates(moving, 'c1'), [], 'c1 still drains f1 and hosts f2');
  const orphan = site({ floatingIps: [fip('f1', '198.51.100.7', null, { activeChassis: 'c1' })] });
  assert.deepEqual(statusUpdates(orphan, 'c1'), [{ fipId: 'f1', activeChassis: null, previous: 'c1', reason: 'release' }]);
  const fresh = site({ floatingIps: [fip('f1', '198.51.100.7', 'p1')] });
  assert.deepEqual(statusUpdates(fresh, 'c1'), [{ fipId: 'f1', activeChassis: 'c1', previous: null, reason: 'claim' }]);
});

test('fipsOfChassis lists each FIP with its role, by id', () => {
  const i = site({ floatingIps: [fip('b', '198.51.100.8', 'p1', { standbyPortId: 'p2' }), fip('a', '198.51.100.7', 'p2', { activeChassis: 'c1' })] });
  assert.deepEqual(fipsOfChassis(i, 'c1').map((x) => `${x.fip.id}:${x.role}`), ['a:draining', 'b:active']);
  assert.deepEqual(fipsOfChassis(i, 'c2').map((x) => `${x.fip.id}:${x.role}`), ['a:active', 'b:standby']);
});
