import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { inPool, pickFreeAddress, poolSize } from './pool.js';
import type { ExternalNetwork } from './model.js';

const net = (pools: Array<[string, string]>, cidr = '198.51.100.0/24'): ExternalNetwork => ({ id: 'n', cidr, mode: 'l3', pools: pools.map(([start, end]) => ({ start, end })) });

test('pool size counts every range', () => {
  assert.equal(poolSize(net([['198.51.100.10', '198.51.100.19'], ['198.51.100.100', '198.51.100.100']])), 11n);
  assert.equal(poolSize(net([['2001:db8::', '2001:db8::ffff:ffff:ffff:ffff']], '2001:db8::/64')), 2n ** 64n);
});

test('pickFreeAddress starts at the random offset, skips used addresses, wraps, and ends', () => {
  const n = net([['198.51.100.10', '198.51.100.12'], ['198.51.100.20', '198.51.100.21']]);
  assert.equal(pickFreeAddress(n, new Set(), () => 0), '198.51.100.10');
  assert.equal(pickFreeAddress(n, new Set(), () => 0.999), '198.51.100.21');
  assert.equal(pickFreeAddress(n, new Set(['198.51.100.21']), () => 0.999), '198.51.100.10');
  assert.equal(pickFreeAddress(n, new Set(['198.51.100.12']), () => 0.5), '198.51.100.20');
  const all = new Set(['198.51.100.10', '198.51.100.11', '198.51.100.12', '198.51.100.20', '198.51.100.21']);
  assert.equal(pickFreeAddress(n, all, Math.random), undefined);
  // Addresses in use outside the pools (given explicitly) do not count against them.
  assert.equal(pickFreeAddress(net([['198.51.100.10', '198.51.100.10']]), new Set(['198.51.100.99']), () => 0), '198.51.100.10');
});

test('an IPv6 /64 pool is not enumerated', () => {
  const n = net([['2001:db8::1', '2001:db8::ffff:ffff:ffff:ffff']], '2001:db8::/64');
  const a = pickFreeAddress(n, new Set(), () => 0.5)!;
  assert.ok(inPool(n, a));
  assert.equal(a, '2001:db8:0:0:8000::'); // the middle of the pool, RFC 5952 text
});

test('property: the pick is a free pool address, or undefined exactly when the pool is full', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 250 }), fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 4 }),
      fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 80 }),
      fc.double({ min: 0, max: 0.9999999, noNaN: true }),
      (ranges, usedOctets, r) => {
        // Disjoint ranges: sort by start, drop overlaps.
        const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
        const pools: Array<[number, number]> = [];
        for (const [s, len] of sorted) {
          const e = Math.min(254, s + len);
          if (pools.length && s <= pools[pools.length - 1]![1]) continue;
          pools.push([s, e]);
        }
        const n = net(pools.map(([s, e]) => [`198.51.100.${s}`, `198.51.100.${e}`]));
        const used = new Set(usedOctets.map((o) => `198.51.100.${o}`));
        const free = pools.flatMap(([s, e]) => Array.from({ length: e - s + 1 }, (_, i) => `198.51.100.${s + i}`)).filter((a) => !used.has(a));
        const pick = pickFreeAddress(n, used, () => r);
        if (free.length === 0) return pick === undefined;
        return pick !== undefined && free.includes(pick);
      },
    ),
  );
});
