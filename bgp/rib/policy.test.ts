// Policy rules: prefix lists with ge/le, community/large/route-target matches, actions,
// first match wins, default action, validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PathAttribute } from '../codec/index.js';
import { CompiledPolicy, PolicyError, type Policy } from './policy.js';
import { findAttr } from './attrs.js';

const attrs: PathAttribute[] = [
  { type: 'ORIGIN', value: 'IGP' },
  { type: 'AS_PATH', segments: [{ type: 'AS_SEQUENCE', asns: [65001] }] },
  { type: 'COMMUNITIES', values: ['65000:100', 'NO_EXPORT'] },
  { type: 'EXTENDED_COMMUNITIES', values: [{ type: 'route-target', value: '65000:10' }] },
  { type: 'LARGE_COMMUNITIES', values: ['65020:1:1'] },
];
const input = (prefix: string | undefined, a: PathAttribute[] = attrs) => ({
  family: 'ipv4-unicast' as const, prefix, attrs: a, communities: findAttr(a, 'COMMUNITIES')?.values ?? [],
});

test('prefix list: exact, ge, le, ge+le, IPv6', () => {
  const pol = (p: { prefix: string; ge?: number; le?: number }) => new CompiledPolicy({ rules: [{ match: { prefixes: [p] }, action: 'permit' }], default: 'deny' }, 65020);
  const exact = pol({ prefix: '198.51.100.0/24' });
  assert.equal(exact.match(input('198.51.100.0/24')), 0);
  assert.equal(exact.match(input('198.51.100.7/32')), -1);
  const le32 = pol({ prefix: '198.51.100.0/24', le: 32 });
  assert.equal(le32.match(input('198.51.100.7/32')), 0);
  assert.equal(le32.match(input('198.51.100.0/24')), 0);
  assert.equal(le32.match(input('198.51.0.0/16')), -1);
  assert.equal(le32.match(input('198.51.101.7/32')), -1);
  const ge28 = pol({ prefix: '198.51.100.0/24', ge: 28 });
  assert.equal(ge28.match(input('198.51.100.16/28')), 0);
  assert.equal(ge28.match(input('198.51.100.7/32')), 0);
  assert.equal(ge28.match(input('198.51.100.0/25')), -1);
  const window = pol({ prefix: '10.0.0.0/8', ge: 16, le: 24 });
  assert.equal(window.match(input('10.1.0.0/16')), 0);
  assert.equal(window.match(input('10.1.2.0/24')), 0);
  assert.equal(window.match(input('10.1.2.0/25')), -1);
  const odd = pol({ prefix: '203.0.113.128/25', le: 32 });
  assert.equal(odd.match(input('203.0.113.200/32')), 0);
  assert.equal(odd.match(input('203.0.113.100/32')), -1);
  const v6 = pol({ prefix: '2001:db8::/32', le: 128 });
  assert.equal(v6.match(input('2001:db8:1::/48')), 0);
  assert.equal(v6.match(input('2001:db9::/48')), -1);
  assert.equal(v6.match(input('198.51.100.0/24')), -1);
  assert.equal(v6.match(input(undefined)), -1, 'a route without a prefix does not match a prefix list');
});

test('community, large community and route-target matches; all conditions of a rule must hold', () => {
  const p = new CompiledPolicy({
    rules: [
      { name: 'both', match: { communities: ['65000:100'], prefixes: [{ prefix: '192.0.2.0/24', le: 32 }] }, action: 'deny' },
      { name: 'no-export', match: { communities: ['no-export'] }, action: 'permit', set: { localPref: 50 } },
    ],
  }, 65020);
  assert.equal(p.match(input('198.51.100.7/32')), 1, 'first rule needs the prefix too; the well-known alias matches the second');
  assert.equal(p.match(input('192.0.2.7/32')), 0);
  assert.equal(new CompiledPolicy({ rules: [{ match: { largeCommunities: ['65020:1:1'] }, action: 'deny' }] }, 1).match(input('1.0.0.0/8')), 0);
  assert.equal(new CompiledPolicy({ rules: [{ match: { largeCommunities: ['65020:1:2'] }, action: 'deny' }] }, 1).match(input('1.0.0.0/8')), -1);
  assert.equal(new CompiledPolicy({ rules: [{ match: { routeTargets: ['65000:10'] }, action: 'deny' }] }, 1).match(input('1.0.0.0/8')), 0);
  assert.equal(new CompiledPolicy({ rules: [{ match: { families: ['ipv6-unicast'] }, action: 'deny' }] }, 1).match(input('1.0.0.0/8')), -1);
});

test('actions: deny, set LOCAL_PREF/MED, communities set/add/remove, large communities, route targets, prepend', () => {
  const p = new CompiledPolicy({
    rules: [
      { match: { prefixes: [{ prefix: '10.0.0.0/8', le: 32 }] }, action: 'deny' },
      {
        action: 'permit',
        set: {
          localPref: 300, med: 0xfffffffe, addCommunities: ['65020:1', '65000:100'], removeCommunities: ['NO_EXPORT'],
          addLargeCommunities: ['65020:2:2'], removeLargeCommunities: ['65020:1:1'], addRouteTargets: ['65000:20'],
          prepend: { count: 2 },
        },
      },
    ],
  }, 65020);
  assert.equal(p.evaluate(input('10.1.1.1/32')), null);
  const out = p.evaluate(input('198.51.100.7/32'))!;
  assert.equal(findAttr(out, 'LOCAL_PREF')?.value, 300);
  assert.equal(findAttr(out, 'MULTI_EXIT_DISC')?.value, 0xfffffffe);
  assert.deepEqual(findAttr(out, 'COMMUNITIES')?.values, ['65000:100', '65020:1']);
  assert.deepEqual(findAttr(out, 'LARGE_COMMUNITIES')?.values, ['65020:2:2']);
  assert.deepEqual(findAttr(out, 'EXTENDED_COMMUNITIES')?.values, [{ type: 'route-target', value: '65000:10' }, { type: 'route-target', value: '65000:20' }]);
  assert.deepEqual(findAttr(out, 'AS_PATH')?.segments, [{ type: 'AS_SEQUENCE', asns: [65020, 65020, 65001] }]);
  assert.deepEqual(findAttr(attrs, 'AS_PATH')?.segments, [{ type: 'AS_SEQUENCE', asns: [65001] }], 'input untouched');
  const given = new CompiledPolicy({ rules: [{ action: 'permit', set: { prepend: { count: 1, asn: 4200000000 }, communities: [] } }] }, 65020).evaluate(input('1.0.0.0/8'))!;
  assert.deepEqual(findAttr(given, 'AS_PATH')?.segments, [{ type: 'AS_SEQUENCE', asns: [4200000000, 65001] }]);
  assert.equal(findAttr(given, 'COMMUNITIES'), undefined, 'an empty community list removes the attribute');
});

test('first match wins, default permit, default deny', () => {
  const rules: Policy['rules'] = [
    { match: { communities: ['65000:100'] }, action: 'permit', set: { med: 1 } },
    { match: { communities: ['65000:100'] }, action: 'deny' },
  ];
  assert.equal(findAttr(new CompiledPolicy({ rules }, 1).evaluate(input('1.0.0.0/8'))!, 'MULTI_EXIT_DISC')?.value, 1);
  const other = input('1.0.0.0/8', attrs.filter((a) => a.type !== 'COMMUNITIES'));
  assert.equal(new CompiledPolicy({ rules }, 1).evaluate(other), other.attrs, 'default permit passes attributes unchanged');
  assert.equal(new CompiledPolicy({ rules, default: 'deny' }, 1).evaluate(other), null);
});

test('invalid policies are rejected with PolicyError', () => {
  const bad: unknown[] = [
    { rules: [{ action: 'maybe' }] },
    { rules: [{ action: 'permit', match: { prefixes: [{ prefix: '10.0.0.0/8', ge: 4 }] } }] },
    { rules: [{ action: 'permit', match: { prefixes: [{ prefix: '10.0.0.0/33' }] } }] },
    { rules: [{ action: 'permit', match: { communities: ['65536:1'] } }] },
    { rules: [{ action: 'permit', set: { localPref: -1 } }] },
    { rules: [{ action: 'permit', set: { largeCommunities: ['1:2'] } }] },
    { rules: [], default: 'reject' },
    {},
  ];
  for (const p of bad) assert.throws(() => new CompiledPolicy(p as Policy, 1), PolicyError, JSON.stringify(p));
});
