// edgeflow ctl: formatting on fixed inputs (golden text), argument handling, and the
// whole client against a real fastify app on an ephemeral loopback port (intent
// plugin over an embedded store, /api/v1/bgp over a fake speaker, /nat and /status stubs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { formatBgpSummary, formatFip, formatFipList, formatNat, formatNeighbor, formatObject, formatRib, formatUptime, parseArgs, runCtl, table, type NatView } from './ctl.js';
import type { MessageCounters, NeighborView, PathView, SpeakerApi } from '../bgp/view.js';
import { buildServer } from '../agent/api/server.js';
import { intentRoutes } from '../agent/api/intent.js';
import { bgpRoutes } from '../agent/api/bgp.js';
import { openEmbeddedStore, type IntentStore } from '../store/index.js';

const counters = (total: number, update: number): MessageCounters => ({ open: 1, update, notification: 0, keepalive: total - update - 1, routeRefresh: 0, total });
const N1: NeighborView = {
  address: '192.0.2.1', asn: 65000, description: 'tor-1', state: 'Established', uptime: 3723, holdTime: 9, keepalive: 3,
  families: ['ipv4-unicast'], capabilities: ['4-octet-as', 'route-refresh'], prefixes: { received: 3, accepted: 2, advertised: 5 },
  messages: { sent: counters(46, 5), received: counters(50, 9) }, flaps: 1, remoteId: '192.0.2.1', localAddress: '192.0.2.11',
};
const N2: NeighborView = {
  ...N1, address: '2001:db8::1', asn: 4200000001, description: undefined, state: 'Active', uptime: 0, lastChange: '2024-01-01T00:00:00Z',
  lastError: { direction: 'received', code: 6, subcode: 2, reason: 'Administrative Shutdown', at: '2024-01-01T00:00:00Z' },
};
const NOW = Date.parse('2024-01-03T01:02:03Z');
const PATHS: PathView[] = [
  { family: 'ipv4-unicast', prefix: '198.51.100.7/32', nlri: {}, peer: 'local', nextHop: '192.0.2.11', asPath: [], origin: 'IGP', best: true, age: 1, communities: ['65000:100'] },
  { family: 'ipv4-unicast', prefix: '198.51.100.7/32', nlri: {}, peer: '192.0.2.1', nextHop: '192.0.2.12', asPath: [65000, 65012, 65012], origin: 'IGP', localPref: 100, med: 0, best: false, age: 1 },
];
const NAT: NatView = {
  table: 'edgeflow', present: true, fips: [{ fip: '198.51.100.7', fixedIp: '10.0.0.5', zone: 12 }], zones: [{ iface: 'tap1', zone: 12 }],
  snat: [{ zone: 12, address: '203.0.113.11' }, { zone: 13, address: '203.0.113.11', portRange: { min: 1024, max: 32767 } }],
  routes: [{ table: 10012, dst: '10.0.0.5/32', dev: 'tap1' }], rules: [{ family: 4, fwmark: '0xef000c', table: 10012 }], proxies: [], driftedChains: ['nat_post'],
};

test('formatUptime follows FRR (hh:mm:ss, XdXXhXXm, XXwXdXXh)', () => {
  assert.equal(formatUptime(0), '00:00:00');
  assert.equal(formatUptime(3723), '01:02:03');
  assert.equal(formatUptime(86400 * 2 + 3720), '2d01h02m');
  assert.equal(formatUptime(86400 * 9 + 3600 * 5), '01w2d05h');
});

test('show bgp summary: FRR columns; State/PfxRcd is the state unless Established', () => {
  assert.equal(formatBgpSummary([N1, N2], NOW, { asn: 65011, routerId: '192.0.2.11' }), [
    'BGP router identifier 192.0.2.11, local AS number 65011',
    '',
    'Neighbor     V          AS  MsgRcvd  MsgSent   Up/Down  State/PfxRcd  Desc',
    '192.0.2.1    4       65000       50       46  01:02:03             2  tor-1',
    '2001:db8::1  4  4200000001       50       46  2d01h02m        Active',
    '',
    'Total number of neighbors 2',
    '',
  ].join('\n'));
  assert.match(formatBgpSummary([{ ...N2, lastChange: undefined }], NOW), /never\s+Active/);
});

test('show bgp neighbors: state, ids, timers, capabilities, message table, last error', () => {
  const text = formatNeighbor(N2, NOW);
  assert.equal(text.split('\n').slice(0, 3).join('\n'), [
    'BGP neighbor is 2001:db8::1, remote AS 4200000001',
    '  BGP state = Active, last change 2d01h02m ago',
    "  Neighbor's BGP identifier 192.0.2.1, local address 192.0.2.11",
  ].join('\n'));
  assert.match(text, /\n {4}Updates: +5 +9\n/);
  assert.match(text, /\n {4}Total: +46 +50\n/);
  assert.match(text, /Last error \(received, 6\/2\): Administrative Shutdown at 2024-01-01T00:00:00Z/);
  assert.match(formatNeighbor(N1, NOW), /BGP state = Established, up for 01:02:03\n  Description|Description: tor-1/);
});

test('show bgp rib: status codes, next hop, metric, local pref, path with origin', () => {
  assert.equal(formatRib(PATHS, 'ipv4-unicast'), [
    'Status codes: * valid, > best, S stale; Origin codes: i IGP, e EGP, ? incomplete',
    '',
    '    Network          Next Hop    Metric  LocPrf  Path                 Communities',
    '*>  198.51.100.7/32  192.0.2.11                  i                    65000:100',
    '*   198.51.100.7/32  192.0.2.12       0     100  65000 65012 65012 i',
    '',
    'Displayed 1 routes and 2 total paths',
    '',
  ].join('\n'));
  assert.equal(formatRib([], 'ipv4-vpn'), 'No BGP prefixes displayed (ipv4-vpn)\n');
});

test('show nat: sections per kernel object; drift and absence are said', () => {
  const text = formatNat(NAT);
  assert.match(text, /^table inet edgeflow\n\nFloating IPs \(1\)\nFloating IP {3}Fixed IP {2}Zone\n198\.51\.100\.7 {2}10\.0\.0\.5 {4}12\n/);
  assert.match(text, /\n {2}13 {2}203\.0\.113\.11 {2}1024-32767\n/);
  assert.match(text, /WARNING: chains differ from what this version writes: nat_post/);
  assert.equal(formatNat({ ...NAT, present: false }), 'table inet edgeflow: not present (the agent has not programmed NAT yet)\n');
});

test('fip list/show and generic status formatting', () => {
  const f = { id: 'f1', address: '198.51.100.7', network: 'ext', tenant: 't1', portId: 'p1', standbyPortId: null, activeChassis: 'c1', status: 'ACTIVE', revision: 4 };
  assert.equal(formatFipList([f]), 'ID  Address       Network  Port  Standby  Active on  Status\nf1  198.51.100.7  ext      p1    -        c1         ACTIVE\n');
  assert.equal(formatFipList([]), 'No floating IPs\n');
  assert.match(formatFip(f), /^id {12}f1\naddress {7}198\.51\.100\.7\n/);
  assert.equal(formatObject({ revision: 12, last: { ms: 3 }, errors: [], peers: ['a'] }), 'revision: 12\nlast:\n  ms: 3\nerrors:\n  (none)\npeers:\n  - a\n');
  assert.equal(table(['A', 'B'], [['x', '1'], ['yy', '22']], new Set([1])), 'A    B\nx    1\nyy  22\n');
});

test('argument parsing: flags with values, --flag=value, boolean flags, missing values', () => {
  const p = parseArgs(['--api=http://x', 'fip', 'create', '--network', 'ext', '--json', '--port', 'p1']);
  assert.deepEqual(p.positional, ['fip', 'create']);
  assert.deepEqual([...p.flags], [['api', 'http://x'], ['network', 'ext'], ['json', 'true'], ['port', 'p1']]);
  assert.throws(() => parseArgs(['fip', 'create', '--network']), /--network needs a value/);
});

// ---------------------------------------------------------------------------
// Against a real server.

let dir: string;
let store: IntentStore;
let app: FastifyInstance;
let api: string;
const TOKEN = 'ctl-token';

function fakeSpeaker(): SpeakerApi {
  return {
    asn: 65011, routerId: '192.0.2.11',
    neighbors: () => [N1, N2], neighbor: (a) => [N1, N2].find((n) => n.address === a),
    rib: (family) => (family === 'ipv4-unicast' ? PATHS : []), received: () => [], advertised: () => [],
    localRoutes: () => [], addRoutes: async () => 0, removeRoutes: async () => 0, resetNeighbor: async () => true,
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgeflow-ctl-'));
  store = await openEmbeddedStore({ dir, fsync: false });
  app = await buildServer({ token: TOKEN });
  await app.register(intentRoutes, { store });
  await app.register(bgpRoutes, { speaker: fakeSpeaker() });
  app.get('/api/v1/nat', async () => NAT);
  app.get('/api/v1/status', async () => ({ chassis: 'c1', intentRevision: 7, errors: [] }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  api = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  await store.put('network', { id: 'ext', cidr: '198.51.100.0/24', pools: [{ start: '198.51.100.10', end: '198.51.100.20' }] });
  await store.put('tenant', { id: 't1', subnets: ['10.0.0.0/24'] });
  await store.put('chassis', { name: 'c1', uplinkIp: '192.0.2.11', localAsn: 65011 });
  await store.put('chassis', { name: 'c2', uplinkIp: '192.0.2.12', localAsn: 65012 });
  await store.put('port', { id: 'p1', tenant: 't1', fixedIp: '10.0.0.5', chassis: 'c1' });
  await store.put('port', { id: 'p2', tenant: 't1', fixedIp: '10.0.0.6', chassis: 'c2' });
});

after(async () => {
  await app?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A loopback port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function ctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCtl(args, { env: { EDGEFLOW_API: api, EDGEFLOW_TOKEN: TOKEN }, out: (s) => { out += s; }, err: (s) => { err += s; }, now: () => NOW });
  return { code, out, err };
}

test('ctl against a live API: fip create / list / show / move / standby / delete, show bgp, nat, status', async () => {
  let r = await ctl('--json', 'fip', 'create', '--network', 'ext', '--port', 'p1', '--id', 'web');
  assert.equal(r.code, 0, r.err);
  const created = JSON.parse(r.out).floatingip;
  assert.equal(created.id, 'web');
  assert.equal(created.tenant, 't1');
  r = await ctl('fip', 'list');
  assert.match(r.out, new RegExp(`^ID +Address +Network +Port +Standby +Active on +Status\\nweb +${created.address.replace(/\./g, '\\.')} +ext +p1 +- +- +PENDING\\n$`));
  r = await ctl('fip', 'standby', 'web', '--port', 'p1');
  assert.equal(r.code, 1, 'standby equal to the port is refused');
  assert.match(r.err, /EF_ERR_BAD_INTENT: floatingip\.standbyPortId/);
  r = await ctl('fip', 'move', 'web', '--port', 'p2');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^port +p2$/m);
  r = await ctl('fip', 'standby', 'web', '--port', 'p1');
  assert.match(r.out, /^standby port +p1$/m);
  r = await ctl('fip', 'standby', 'web', '--clear');
  assert.match(r.out, /^standby port +-$/m);
  r = await ctl('fip', 'show', 'web', '--json');
  assert.equal(JSON.parse(r.out).floatingip.portId, 'p2');
  r = await ctl('fip', 'create', '--network', 'ext', '--address', created.address, '--tenant', 't1');
  assert.equal(r.code, 1);
  assert.match(r.err, /EF_ERR_CONFLICT: floatingip\.address/);
  r = await ctl('show', 'bgp', 'summary');
  assert.match(r.out, /^192\.0\.2\.1 +4 +65000 +50 +46 +01:02:03 +2 +tor-1$/m);
  r = await ctl('show', 'bgp', 'neighbors', '192.0.2.1');
  assert.match(r.out, /^BGP neighbor is 192\.0\.2\.1, remote AS 65000/);
  r = await ctl('show', 'bgp', 'neighbors', '192.0.2.99');
  assert.deepEqual([r.code, r.err], [1, 'edgeflow ctl: EF_ERR_NOT_FOUND: no neighbor 192.0.2.99\n']);
  r = await ctl('show', 'bgp', 'rib', '--family', 'ipv4-unicast');
  assert.match(r.out, /^\*> +198\.51\.100\.7\/32 +192\.0\.2\.11/m);
  r = await ctl('show', 'nat');
  assert.match(r.out, /^198\.51\.100\.7 +10\.0\.0\.5 +12$/m);
  r = await ctl('show', 'status', '--json');
  assert.deepEqual(JSON.parse(r.out), { chassis: 'c1', intentRevision: 7, errors: [] });
  r = await ctl('fip', 'delete', 'web');
  assert.deepEqual([r.code, r.out], [0, 'Floating IP web released\n']);
  r = await ctl('fip', 'delete', 'web');
  assert.equal(r.code, 1);
});

test('ctl: a wrong token is 401, no API is a clear error, usage errors exit 2', async () => {
  let out = '';
  let err = '';
  const io = { env: {}, out: (s: string) => { out += s; }, err: (s: string) => { err += s; } };
  assert.equal(await runCtl(['--api', api, '--token', 'nope', 'fip', 'create', '--network', 'ext', '--tenant', 't1'], io), 1);
  assert.match(err, /EF_ERR_UNAUTHORIZED/);
  err = '';
  const closed = await freePort();
  assert.equal(await runCtl(['--api', `http://127.0.0.1:${closed}`, 'fip', 'list'], io), 1);
  assert.match(err, new RegExp(`cannot reach the API at http://127\\.0\\.0\\.1:${closed}: ECONNREFUSED`));
  err = '';
  assert.equal(await runCtl(['fip', 'move', 'web'], io), 2);
  assert.match(err, /--port is required/);
  assert.equal(await runCtl(['frobnicate'], io), 2);
  assert.equal(await runCtl(['show', 'bgp', 'nonsense'], io), 2);
  assert.equal(await runCtl(['--help'], io), 0);
  assert.match(out, /usage: edgeflow ctl/);
});
