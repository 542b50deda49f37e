// Unit tests of the failover helper's pure parts: `ip -ts monitor route` lines into route
// events for one FIP (timestamps, deletions, multipath next hops, other prefixes ignored).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseMonitorLine, routeEvents } from './failover-lab.js';

describe('failover helper: route monitor parsing', () => {
  it('reads the local timestamp with microseconds', () => {
    const p = parseMonitorLine('[2026-11-25T12:24:52.591588] 198.51.100.99 via 192.0.2.11 dev eth1 ');
    assert.ok(p);
    assert.equal(p.at, new Date(2026, 10, 25, 12, 24, 52).getTime() + 591.588);
    assert.equal(p.rest, '198.51.100.99 via 192.0.2.11 dev eth1 ');
    assert.equal(parseMonitorLine('\tnexthop via 192.0.2.21 dev eth2 weight 1'), undefined);
  });

  it('keeps the events of one prefix: changes, deletions, multipath next hops', () => {
    const lines = [
      '[2026-11-25T12:24:52.591588] 198.51.100.99 nhid 16 via 192.0.2.11 dev eth1 proto bgp metric 20 ',
      '[2026-11-25T12:24:52.600000] 198.51.100.98 via 192.0.2.11 dev eth1 proto bgp metric 20 ',
      '[2026-11-25T12:24:52.607320] 198.51.100.99 nhid 17 proto bgp metric 20 ',
      '\tnexthop via 192.0.2.11 dev eth1 weight 1 ',
      '\tnexthop via 192.0.2.21 dev eth2 weight 1 ',
      '[2026-11-25T12:24:52.621941] Deleted 198.51.100.99 nhid 17 via 192.0.2.21 dev eth2 proto bgp metric 20 ',
      '[2026-11-25T12:24:52.630000] Deleted 198.51.100.98 via 192.0.2.11 dev eth1 ',
      '\tnexthop via 192.0.2.99 dev eth9 weight 1 ',
    ];
    const ev = routeEvents(lines, '198.51.100.99');
    assert.deepEqual(ev.map((e) => [e.deleted, e.via]), [
      [false, ['192.0.2.11']],
      [false, ['192.0.2.11', '192.0.2.21']],
      [true, ['192.0.2.21']],
    ]);
    assert.ok(ev[1]!.at - ev[0]!.at > 15 && ev[1]!.at - ev[0]!.at < 16);
  });
});
