// `edgeflow ctl`: the operator's client of an agent's REST API — floating IPs
// (create, list, show, move, standby, delete) and read-only views of the BGP speaker
// (`show bgp summary` in FRR's layout, neighbors, RIB), the kernel NAT state and the
// agent status. `--json` prints the API's JSON as it came. Formatting functions are
// pure and exported (tested on fixed inputs); the shell is Node's fetch.
import type { NatSnapshot } from '../nat/index.js';
import type { NeighborView, PathView } from '../bgp/view.js';

export const DEFAULT_API = 'http://127.0.0.1:8179';

const USAGE = `usage: edgeflow ctl [--api URL] [--token T] [--json] <command>

  fip create --network N [--port P] [--address A] [--standby-port P] [--tenant T] [--description D]
  fip list [--network N] [--port P]
  fip show ID
  fip move ID --port P            re-associate (planned failover)
  fip standby ID (--port P | --clear)
  fip delete ID
  show bgp summary
  show bgp neighbors [ADDR]
  show bgp rib [--family F]       ipv4-unicast (default), ipv6-unicast, ipv4-vpn, ipv6-vpn, l2vpn-evpn
  show nat
  show status

  --api    API base URL (env EDGEFLOW_API, default ${DEFAULT_API})
  --token  bearer token for writes (env EDGEFLOW_TOKEN)
  --json   print the raw JSON response
`;

export interface CtlIo {
  fetch: typeof fetch;
  env: Record<string, string | undefined>;
  out: (s: string) => void;
  err: (s: string) => void;
  /** Current time (ms), for "Up/Down" of neighbors. */
  now: () => number;
}

const defaultIo = (): CtlIo => ({
  fetch: globalThis.fetch,
  env: process.env,
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  now: Date.now,
});

class UsageError extends Error {}

/** Parsed command line: positionals and --flags (a flag without value is "true"). */
export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string>;
}

const BOOLEAN_FLAGS = new Set(['json', 'clear', 'help']);

export function parseArgs(args: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h') {
      flags.set('help', 'true');
    } else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (!name) throw new UsageError(`bad option "${a}"`);
      if (eq > 0) flags.set(name, a.slice(eq + 1));
      else if (BOOLEAN_FLAGS.has(name)) flags.set(name, 'true');
      else {
        const v = args[i + 1];
        if (v === undefined || v.startsWith('--')) throw new UsageError(`--${name} needs a value`);
        flags.set(name, v);
        i++;
      }
    } else positional.push(a);
  }
  return { positional, flags };
}

// ---------------------------------------------------------------------------
// Formatting (pure).

/** Left-aligned columns separated by two spaces; `right` columns are right-aligned. */
export function table(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** FRR's Up/Down: hh:mm:ss under a day, 1d02h03m under a week, 01w2d03h beyond. */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d === 0) return `${p2(h)}:${p2(m)}:${p2(s % 60)}`;
  if (d < 7) return `${d}d${p2(h)}h${p2(m)}m`;
  return `${p2(Math.floor(d / 7))}w${d % 7}d${p2(h)}h`;
}

/** `show bgp summary` in FRR's column layout. */
export function formatBgpSummary(neighbors: readonly NeighborView[], now: number, local?: { asn?: number; routerId?: string }): string {
  const head = local?.routerId || local?.asn ? `BGP router identifier ${local.routerId ?? '-'}, local AS number ${local.asn ?? '-'}\n\n` : '';
  const rows = neighbors.map((n) => {
    const up = n.state === 'Established';
    const since = up ? n.uptime : n.lastChange ? (now - Date.parse(n.lastChange)) / 1000 : undefined;
    return [
      n.address, '4', String(n.asn), String(n.messages.received.total), String(n.messages.sent.total),
      since === undefined || Number.isNaN(since) ? 'never' : formatUptime(since),
      up ? String(n.prefixes.accepted) : n.state,
      n.description ?? '',
    ];
  });
  return head + table(['Neighbor', 'V', 'AS', 'MsgRcvd', 'MsgSent', 'Up/Down', 'State/PfxRcd', 'Desc'], rows, new Set([2, 3, 4, 5, 6])) +
    `\nTotal number of neighbors ${neighbors.length}\n`;
}

/** One neighbor in the manner of FRR's `show bgp neighbors`. */
export function formatNeighbor(n: NeighborView, now: number): string {
  const m = n.messages;
  const up = n.state === 'Established';
  const since = n.lastChange ? formatUptime((now - Date.parse(n.lastChange)) / 1000) : 'never';
  const lines = [
    `BGP neighbor is ${n.address}, remote AS ${n.asn}`,
    ...(n.description ? [`  Description: ${n.description}`] : []),
    `  BGP state = ${n.state}${up ? `, up for ${formatUptime(n.uptime)}` : `, last change ${since} ago`}`,
    `  Neighbor's BGP identifier ${n.remoteId ?? '-'}, local address ${n.localAddress ?? '-'}`,
    `  Hold time is ${n.holdTime}, keepalive interval is ${n.keepalive} seconds`,
    `  Address families: ${n.families.join(', ') || '-'}`,
    `  Capabilities: ${n.capabilities.join(', ') || '-'}`,
    '  Message statistics:',
    ...table(['', 'Sent', 'Rcvd'], [
      ['Opens:', String(m.sent.open), String(m.received.open)],
      ['Notifications:', String(m.sent.notification), String(m.received.notification)],
      ['Updates:', String(m.sent.update), String(m.received.update)],
      ['Keepalives:', String(m.sent.keepalive), String(m.received.keepalive)],
      ['Route Refresh:', String(m.sent.routeRefresh), String(m.received.routeRefresh)],
      ['Total:', String(m.sent.total), String(m.received.total)],
    ], new Set([1, 2])).trimEnd().split('\n').map((l) => `    ${l}`),
    `  Prefixes: received ${n.prefixes.received}, accepted ${n.prefixes.accepted}, advertised ${n.prefixes.advertised}`,
    `  Connections dropped ${n.flaps}`,
  ];
  if (n.lastError) {
    const e = n.lastError;
    lines.push(`  Last error (${e.direction}${e.code !== undefined ? `, ${e.code}/${e.subcode ?? 0}` : ''}): ${e.reason}${e.message ? ` — ${e.message}` : ''} at ${e.at}`);
  }
  if (n.bfd) {
    const b = n.bfd;
    lines.push(`  BFD: ${b.state}${b.remoteState ? ` (remote ${b.remoteState})` : ''}${b.detectionTimeMs !== undefined ? `, detect ${b.detectionTimeMs} ms` : ''}${b.diag ? `, diag ${b.diag}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

const ORIGIN_CODE: Record<string, string> = { IGP: 'i', EGP: 'e', INCOMPLETE: '?' };

/** A RIB view in the layout of FRR's `show bgp <afi> <safi>`. */
export function formatRib(paths: readonly PathView[], family: string): string {
  if (paths.length === 0) return `No BGP prefixes displayed (${family})\n`;
  const rows = paths.map((p) => [
    `${p.stale ? 'S' : '*'}${p.best ? '>' : ' '}`,
    p.prefix,
    p.peer === 'local' ? (p.nextHop ?? '0.0.0.0') : (p.nextHop ?? p.peer),
    p.med === undefined ? '' : String(p.med),
    p.localPref === undefined ? '' : String(p.localPref),
    [...p.asPath.map(String), ORIGIN_CODE[p.origin] ?? p.origin].join(' '),
    [...(p.communities ?? []), ...(p.largeCommunities ?? [])].join(' '),
  ]);
  return `Status codes: * valid, > best, S stale; Origin codes: i IGP, e EGP, ? incomplete\n\n` +
    table(['', 'Network', 'Next Hop', 'Metric', 'LocPrf', 'Path', 'Communities'], rows, new Set([3, 4])) +
    `\nDisplayed ${new Set(paths.map((p) => p.prefix)).size} routes and ${paths.length} total paths\n`;
}

/** The NatManager.read() snapshot as served by GET /api/v1/nat. */
export type NatView = NatSnapshot;

export function formatNat(n: NatView): string {
  if (!n.present) return `table inet ${n.table}: not present (the agent has not programmed NAT yet)\n`;
  const parts: string[] = [`table inet ${n.table}\n`];
  parts.push(`\nFloating IPs (${n.fips.length})\n` + (n.fips.length ? table(['Floating IP', 'Fixed IP', 'Zone'], n.fips.map((f) => [f.fip, f.fixedIp, f.zone === undefined ? '-' : String(f.zone)]), new Set([2])) : '  none\n'));
  parts.push(`\nSNAT (${n.snat.length})\n` + (n.snat.length ? table(['Zone', 'Address', 'Ports'], n.snat.map((s) => [String(s.zone), s.address, s.portRange ? `${s.portRange.min}-${s.portRange.max}` : 'all']), new Set([0])) : '  none\n'));
  parts.push(`\nTenant interfaces (${n.zones.length})\n` + (n.zones.length ? table(['Interface', 'Zone'], n.zones.map((z) => [z.iface, String(z.zone)]), new Set([1])) : '  none\n'));
  parts.push(`\nRoutes (${n.routes.length})\n` + (n.routes.length ? table(['Table', 'Destination', 'Device'], n.routes.map((r) => [String(r.table), r.dst, r.dev]), new Set([0])) : '  none\n'));
  parts.push(`\nRules (${n.rules.length})\n` + (n.rules.length ? table(['Family', 'Fwmark', 'Table'], n.rules.map((r) => [`ipv${r.family}`, r.fwmark, String(r.table)]), new Set([2])) : '  none\n'));
  if (n.proxies.length) parts.push(`\nProxy ARP/NDP: ${n.proxies.join(', ')}\n`);
  if (n.driftedChains.length) parts.push(`\nWARNING: chains differ from what this version writes: ${n.driftedChains.join(', ')}\n`);
  return parts.join('');
}

/** Any JSON object as indented `key: value` lines (for /status, whose shape the agent owns). */
export function formatObject(v: unknown, indent = ''): string {
  if (v === null || typeof v !== 'object') return `${indent}${String(v)}\n`;
  let out = '';
  if (Array.isArray(v)) {
    if (v.length === 0) return `${indent}(none)\n`;
    for (const x of v) {
      if (x !== null && typeof x === 'object') out += `${indent}-\n${formatObject(x, `${indent}  `)}`;
      else out += `${indent}- ${String(x)}\n`;
    }
    return out;
  }
  for (const [k, x] of Object.entries(v)) {
    if (x !== null && typeof x === 'object') out += `${indent}${k}:\n${formatObject(x, `${indent}  `)}`;
    else out += `${indent}${k}: ${String(x)}\n`;
  }
  return out;
}

export interface FipView {
  id: string;
  address: string;
  network: string;
  tenant: string;
  portId: string | null;
  standbyPortId?: string | null;
  activeChassis?: string | null;
  status?: string;
  description?: string;
  revision?: number;
}

export function formatFipList(fips: readonly FipView[]): string {
  if (fips.length === 0) return 'No floating IPs\n';
  return table(['ID', 'Address', 'Network', 'Port', 'Standby', 'Active on', 'Status'], fips.map((f) => [
    f.id, f.address, f.network, f.portId ?? '-', f.standbyPortId ?? '-', f.activeChassis ?? '-', f.status ?? '-',
  ]));
}

export function formatFip(f: FipView): string {
  const rows: Array<[string, string]> = [
    ['id', f.id], ['address', f.address], ['network', f.network], ['tenant', f.tenant],
    ['port', f.portId ?? '-'], ['standby port', f.standbyPortId ?? '-'], ['active on', f.activeChassis ?? '-'],
    ['status', f.status ?? '-'], ['description', f.description ?? ''], ['revision', f.revision === undefined ? '-' : String(f.revision)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`.trimEnd()).join('\n') + '\n';
}

// ---------------------------------------------------------------------------
// The shell.

class ApiFailure extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

interface Client {
  call(method: string, path: string, body?: unknown): Promise<unknown>;
}

function client(io: CtlIo, api: string, token: string | undefined): Client {
  const base = api.replace(/\/+$/, '');
  return {
    async call(method, path, body) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (token) headers['authorization'] = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await io.fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(15000) });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new ApiFailure(`cannot reach the API at ${base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, 0);
      }
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (!res.ok) {
        const e = (json as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
        throw new ApiFailure(e ? `${e.code ?? res.status}: ${e.message ?? ''}` : `HTTP ${res.status} ${text.slice(0, 200)}`, res.status);
      }
      return json;
    },
  };
}

function need(p: ParsedArgs, flag: string): string {
  const v = p.flags.get(flag);
  if (v === undefined || v === 'true') throw new UsageError(`--${flag} is required`);
  return v;
}

function arg(p: ParsedArgs, i: number, what: string): string {
  const v = p.positional[i];
  if (v === undefined) throw new UsageError(`${what} is required`);
  return v;
}

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;

/** `edgeflow ctl …`; returns the exit code (0 ok, 1 the API refused or is unreachable, 2 usage). */
export async function runCtl(args: string[], ioOverride: Partial<CtlIo> = {}): Promise<number> {
  const io = { ...defaultIo(), ...ioOverride };
  let p: ParsedArgs;
  try {
    p = parseArgs(args);
  } catch (err) {
    io.err(`edgeflow ctl: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (p.flags.has('help') || p.positional.length === 0 || p.positional[0] === 'help') {
    io.out(USAGE);
    return p.positional.length === 0 && !p.flags.has('help') ? 2 : 0;
  }
  const api = p.flags.get('api') ?? io.env['EDGEFLOW_API'] ?? DEFAULT_API;
  const token = p.flags.get('token') ?? io.env['EDGEFLOW_TOKEN'];
  const json = p.flags.has('json');
  const c = client(io, api, token);
  const print = (data: unknown, human: () => string): void => io.out(json ? `${JSON.stringify(data, null, 2)}\n` : human());
  try {
    const [group, sub] = p.positional;
    const cmd = `${group} ${sub ?? ''}`.trim();
    switch (cmd) {
      case 'fip create': {
        const body: Record<string, unknown> = { network: need(p, 'network') };
        if (p.flags.has('port')) body['portId'] = need(p, 'port');
        if (p.flags.has('address')) body['address'] = need(p, 'address');
        if (p.flags.has('standby-port')) body['standbyPortId'] = need(p, 'standby-port');
        if (p.flags.has('tenant')) body['tenant'] = need(p, 'tenant');
        if (p.flags.has('description')) body['description'] = need(p, 'description');
        if (p.flags.has('id')) body['id'] = need(p, 'id');
        const r = (await c.call('POST', '/api/v1/floatingips', { floatingip: body })) as { floatingip: FipView };
        print(r, () => formatFip(r.floatingip));
        return 0;
      }
      case 'fip list': {
        const r = (await c.call('GET', `/api/v1/floatingips${query({ network: p.flags.get('network'), portId: p.flags.get('port') })}`)) as { floatingips: FipView[] };
        print(r, () => formatFipList(r.floatingips));
        return 0;
      }
      case 'fip show': {
        const r = (await c.call('GET', `/api/v1/floatingips/${enc(arg(p, 2, 'the floating IP id'))}`)) as { floatingip: FipView };
        print(r, () => formatFip(r.floatingip));
        return 0;
      }
      case 'fip move': {
        const id = arg(p, 2, 'the floating IP id');
        const r = (await c.call('PUT', `/api/v1/floatingips/${enc(id)}`, { floatingip: { portId: need(p, 'port') } })) as { floatingip: FipView };
        print(r, () => formatFip(r.floatingip));
        return 0;
      }
      case 'fip standby': {
        const id = arg(p, 2, 'the floating IP id');
        const standby = p.flags.has('clear') ? null : need(p, 'port');
        const r = (await c.call('PUT', `/api/v1/floatingips/${enc(id)}`, { floatingip: { standbyPortId: standby } })) as { floatingip: FipView };
        print(r, () => formatFip(r.floatingip));
        return 0;
      }
      case 'fip delete': {
        const id = arg(p, 2, 'the floating IP id');
        await c.call('DELETE', `/api/v1/floatingips/${enc(id)}`);
        print({ deleted: id }, () => `Floating IP ${id} released\n`);
        return 0;
      }
      case 'show bgp': {
        const what = p.positional[2];
        if (what === 'summary') {
          const r = (await c.call('GET', '/api/v1/bgp/neighbors')) as NeighborView[];
          const local = (await c.call('GET', '/api/v1/bgp').catch(() => undefined)) as { asn?: number; routerId?: string } | undefined;
          print(r, () => formatBgpSummary(r, io.now(), local));
          return 0;
        }
        if (what === 'neighbors' || what === 'neighbor') {
          const addr = p.positional[3];
          if (addr) {
            const r = (await c.call('GET', `/api/v1/bgp/neighbors/${enc(addr)}`)) as NeighborView;
            print(r, () => formatNeighbor(r, io.now()));
          } else {
            const r = (await c.call('GET', '/api/v1/bgp/neighbors')) as NeighborView[];
            print(r, () => (r.length ? r.map((n) => formatNeighbor(n, io.now())).join('\n') : 'No BGP neighbors\n'));
          }
          return 0;
        }
        if (what === 'rib') {
          const family = p.flags.get('family') ?? 'ipv4-unicast';
          const r = (await c.call('GET', `/api/v1/bgp/rib${query({ family })}`)) as PathView[];
          print(r, () => formatRib(r, family));
          return 0;
        }
        throw new UsageError(`unknown "show bgp ${what ?? ''}": use summary, neighbors [ADDR] or rib [--family F]`);
      }
      case 'show nat': {
        const r = (await c.call('GET', '/api/v1/nat')) as NatView;
        print(r, () => formatNat(r));
        return 0;
      }
      case 'show status': {
        const r = await c.call('GET', '/api/v1/status');
        print(r, () => formatObject(r));
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${p.positional.join(' ')}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`edgeflow ctl: ${err.message}\n${USAGE}`);
      return 2;
    }
    if (err instanceof ApiFailure) {
      io.err(`edgeflow ctl: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
