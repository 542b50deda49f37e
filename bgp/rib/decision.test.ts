// Decision process (RFC 4271 §9.1.2.2, RFC 4456 §9): every step, asserted by its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIP, type AsSegment, type PathAttribute } from '../codec/index.js';
import { AttrTable, sortAttrs } from './attrs.js';
import { decide, ipv4ToNumber, type Candidate, type DecisionSource, type SourceKind } from './decision.js';

const table = new AttrTable();
const opts = { localAsn: 65020 };

function src(kind: SourceKind, routerId: string, address: string, weight = 0): DecisionSource {
  return { kind, weight, routerIdNum: ipv4ToNumber(routerId), addressBytes: kind === 'local' ? new Uint8Array(0) : parseIP(address) };
}
const A = src('ebgp', '192.0.2.1', '192.0.2.1');
const B = src('ebgp', '192.0.2.2', '192.0.2.2');
const I = src('ibgp', '192.0.2.3', '192.0.2.3');
const L = src('local', '192.0.2.20', '', 32768);

function seq(...asns: number[]): AsSegment {
  return { type: 'AS_SEQUENCE', asns };
}
function path(source: DecisionSource, extra: PathAttribute[] = [], segments: AsSegment[] = [seq(65001)], pathId = 0): Candidate & { name?: string } {
  const attrs: PathAttribute[] = [{ type: 'ORIGIN', value: 'IGP' }, { type: 'AS_PATH', segments }, ...extra];
  return { source, attrs: table.intern(sortAttrs(attrs), ['192.0.2.1']), pathId };
}

test('one path wins as the only path', () => {
  const p = path(A);
  assert.deepEqual(decide([p], opts), { best: p, reason: 'only-path' });
});

test('a locally originated route beats a learned one with a higher LOCAL_PREF (weight)', () => {
  const learned = path(I, [{ type: 'LOCAL_PREF', value: 500 }]);
  const local = path(L, [], []);
  assert.deepEqual(decide([learned, local], opts), { best: local, reason: 'weight' });
});

test('highest LOCAL_PREF wins; a missing one counts as 100', () => {
  const lp200 = path(I, [{ type: 'LOCAL_PREF', value: 200 }], [seq(1, 2, 3, 4)]);
  const none = path(A);
  assert.deepEqual(decide([none, lp200], opts), { best: lp200, reason: 'local-pref' });
  const lp50 = path(I, [{ type: 'LOCAL_PREF', value: 50 }]);
  assert.equal(decide([lp50, none], opts).best, none);
});

test('shortest AS_PATH wins; an AS_SET counts one, confederation segments nothing', () => {
  const short = path(A, [], [seq(65001)]);
  const long = path(B, [], [seq(65002, 65003)]);
  assert.deepEqual(decide([long, short], opts), { best: short, reason: 'as-path-length' });
  const withSet = path(A, [], [seq(65001), { type: 'AS_SET', asns: [1, 2, 3, 4] }]); // length 2
  const three = path(B, [], [seq(65002, 65003, 65004)]);
  assert.deepEqual(decide([three, withSet], opts), { best: withSet, reason: 'as-path-length' });
  const confed = path(A, [], [{ type: 'AS_CONFED_SEQUENCE', asns: [9, 9, 9] }, seq(65001)]); // length 1
  const two = path(B, [], [seq(65002, 65003)]);
  assert.deepEqual(decide([two, confed], opts), { best: confed, reason: 'as-path-length' });
});

test('lowest ORIGIN wins (IGP < EGP < INCOMPLETE)', () => {
  const igp = path(B);
  const incomplete: Candidate = { source: A, pathId: 0, attrs: table.intern(sortAttrs([{ type: 'ORIGIN', value: 'INCOMPLETE' }, { type: 'AS_PATH', segments: [seq(65001)] }]), ['192.0.2.1']) };
  assert.deepEqual(decide([incomplete, igp], opts), { best: igp, reason: 'origin' });
});

test('lowest MED wins between routes from the same neighbouring AS; a missing MED is 0', () => {
  const med10 = path(A, [{ type: 'MULTI_EXIT_DISC', value: 10 }]);
  const med5 = path(B, [{ type: 'MULTI_EXIT_DISC', value: 5 }]);
  assert.deepEqual(decide([med10, med5], opts), { best: med5, reason: 'med' });
  const none = path(B);
  assert.deepEqual(decide([med10, none], opts), { best: none, reason: 'med' });
});

test('MED is not compared across neighbouring ASes unless always-compare-med', () => {
  const fromAs1 = path(B, [{ type: 'MULTI_EXIT_DISC', value: 5 }], [seq(65001)]);
  const fromAs2 = path(A, [{ type: 'MULTI_EXIT_DISC', value: 50 }], [seq(65002)]);
  // Router ID decides: A (192.0.2.1) is lower than B.
  assert.deepEqual(decide([fromAs1, fromAs2], opts), { best: fromAs2, reason: 'router-id' });
  assert.deepEqual(decide([fromAs1, fromAs2], { ...opts, alwaysCompareMed: true }), { best: fromAs1, reason: 'med' });
});

test('MED elimination works on the set (RFC 4271 §9.1.2.2 c), not pairwise in arrival order', () => {
  const x = path(src('ebgp', '192.0.2.9', '192.0.2.9'), [{ type: 'MULTI_EXIT_DISC', value: 10 }], [seq(65001)]);
  const y = path(src('ebgp', '192.0.2.8', '192.0.2.8'), [{ type: 'MULTI_EXIT_DISC', value: 5 }], [seq(65001)]);
  const z = path(src('ebgp', '192.0.2.7', '192.0.2.7'), [{ type: 'MULTI_EXIT_DISC', value: 1 }], [seq(65002)]);
  for (const order of [[x, y, z], [z, y, x], [y, z, x]]) {
    assert.deepEqual(decide(order, opts), { best: z, reason: 'router-id' });
  }
  // Without z, y beats x on MED.
  assert.deepEqual(decide([x, y], opts), { best: y, reason: 'med' });
});

test('eBGP beats iBGP', () => {
  const e = path(B);
  const i = path(src('ibgp', '192.0.2.0', '192.0.2.0'));
  assert.deepEqual(decide([i, e], opts), { best: e, reason: 'ebgp-over-ibgp' });
});

test('lowest router ID wins; ORIGINATOR_ID stands in for it (RFC 4456 §9)', () => {
  const a = path(A);
  const b = path(B);
  assert.deepEqual(decide([b, a], opts), { best: a, reason: 'router-id' });
  const i1 = path(src('ibgp', '192.0.2.1', '192.0.2.1'), [{ type: 'ORIGINATOR_ID', value: '192.0.2.99' }]);
  const i2 = path(src('ibgp', '192.0.2.50', '192.0.2.50'));
  assert.deepEqual(decide([i1, i2], opts), { best: i2, reason: 'router-id' });
});

test('shortest CLUSTER_LIST wins', () => {
  const i1 = path(src('ibgp', '192.0.2.5', '192.0.2.5'), [{ type: 'ORIGINATOR_ID', value: '192.0.2.9' }, { type: 'CLUSTER_LIST', values: ['192.0.2.1', '192.0.2.2'] }]);
  const i2 = path(src('ibgp', '192.0.2.6', '192.0.2.6'), [{ type: 'ORIGINATOR_ID', value: '192.0.2.9' }, { type: 'CLUSTER_LIST', values: ['192.0.2.1'] }]);
  assert.deepEqual(decide([i1, i2], opts), { best: i2, reason: 'cluster-list-length' });
});

test('lowest peer address breaks the last tie', () => {
  const p1 = path(src('ebgp', '192.0.2.1', '192.0.2.30'));
  const p2 = path(src('ebgp', '192.0.2.1', '192.0.2.10'));
  assert.deepEqual(decide([p1, p2], opts), { best: p2, reason: 'peer-address' });
});

test('add-path: two paths from one peer differ only in path ID', () => {
  const p1 = path(A, [], [seq(65001)], 7);
  const p2 = path(A, [], [seq(65001)], 3);
  assert.deepEqual(decide([p1, p2], opts), { best: p2, reason: 'path-id' });
});

test('unsigned values: LOCAL_PREF and MED above 2^31 compare as unsigned', () => {
  const hi = path(I, [{ type: 'LOCAL_PREF', value: 0xfffffff0 }]);
  const lo = path(I, [{ type: 'LOCAL_PREF', value: 0x7fffffff }]);
  assert.deepEqual(decide([lo, hi], opts), { best: hi, reason: 'local-pref' });
  const m1 = path(A, [{ type: 'MULTI_EXIT_DISC', value: 0x80000000 }]);
  const m2 = path(B, [{ type: 'MULTI_EXIT_DISC', value: 0x7fffffff }]);
  assert.deepEqual(decide([m1, m2], opts), { best: m2, reason: 'med' });
});
