// RouteKeyMap against a plain Map as the oracle: random operations on keys chosen to
// collide (few distinct int32s in a small table), with 0, negative int32s, non-/32
// numeric keys and text keys mixed in; and iteration while the map changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RouteKeyMap } from './keymap.js';
import { ipv4Key, type RouteKey } from './keys.js';

const keyArb: fc.Arbitrary<RouteKey> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -40, max: 40 }) }, // dense: long probe runs, deletes that shift
  { weight: 2, arbitrary: fc.integer({ min: -2147483648, max: 2147483647 }) },
  { weight: 1, arbitrary: fc.constantFrom<RouteKey>(ipv4Key('10.0.0.0/8'), ipv4Key('0.0.0.0/0'), '2001:db8::/32', 'x|1') },
);

const opArb = fc.oneof(
  fc.record({ op: fc.constant('set' as const), k: keyArb, v: fc.integer() }),
  fc.record({ op: fc.constant('delete' as const), k: keyArb }),
  fc.record({ op: fc.constant('get' as const), k: keyArb }),
  fc.record({ op: fc.constant('clear' as const) }),
);

const sorted = (it: Iterable<[RouteKey, unknown]>) => [...it].sort((a, b) => String(a[0]).localeCompare(String(b[0])));

test('RouteKeyMap: same answers as Map under random set/get/delete/clear', () => {
  fc.assert(fc.property(fc.array(opArb, { maxLength: 400 }), (ops) => {
    const m = new RouteKeyMap<number>();
    const o = new Map<RouteKey, number>();
    for (const x of ops) {
      switch (x.op) {
        case 'set': m.set(x.k, x.v); o.set(x.k, x.v); break;
        case 'delete': assert.equal(m.delete(x.k), o.delete(x.k)); break;
        case 'get': assert.equal(m.get(x.k), o.get(x.k)); assert.equal(m.has(x.k), o.has(x.k)); break;
        case 'clear': m.clear(); o.clear(); break;
      }
      assert.equal(m.size, o.size);
    }
    for (const k of o.keys()) assert.equal(m.get(k), o.get(k));
    assert.deepEqual(sorted(m.entries()), sorted(o.entries()));
    assert.deepEqual(sorted(m), sorted(o));
    assert.deepEqual([...m.values()].sort(), [...o.values()].sort());
    const each: Array<[RouteKey, number]> = [];
    m.forEach((v, k) => each.push([k, v]));
    assert.deepEqual(sorted(each), sorted(o.entries()));
  }), { numRuns: 300 });
});

test('RouteKeyMap: a million /32 keys in, half deleted, the rest found', () => {
  const m = new RouteKeyMap<number>();
  const base = ipv4Key('100.64.0.0/32') as number;
  for (let i = 0; i < 1_000_000; i++) m.set(base + i, i);
  assert.equal(m.size, 1_000_000);
  for (let i = 0; i < 1_000_000; i += 2) assert.ok(m.delete(base + i));
  assert.equal(m.size, 500_000);
  for (let i = 0; i < 1_000_000; i++) assert.equal(m.get(base + i), i % 2 ? i : undefined);
});

test('RouteKeyMap: an iterator held while keys are deleted and added visits every key that stays, once', () => {
  fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 200 }), fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 200 }), (initial, later) => {
    const m = new RouteKeyMap<number>();
    for (const k of initial) m.set(k, k);
    const it = m.entries();
    const seen: number[] = [];
    let step = 0;
    for (let r = it.next(); !r.done; r = it.next()) {
      seen.push(r.value[0] as number);
      // change the map between steps: deletes shift entries, adds may grow the table
      const k = later[step++ % Math.max(later.length, 1)];
      if (k !== undefined) {
        if (k % 3 === 0) m.delete(k);
        else m.set(k + 1000, k);
      }
    }
    assert.equal(new Set(seen).size, seen.length, 'no key twice');
    for (const k of initial) if (m.has(k)) assert.ok(seen.includes(k), `key ${k} skipped`);
  }), { numRuns: 200 });
});

test('RouteKeyMap: undefined values are refused (get() would not tell them from a missing key)', () => {
  assert.throws(() => new RouteKeyMap<number | undefined>().set(5, undefined), TypeError);
});
