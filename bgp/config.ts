// Speaker configuration (the `edgeflow speaker --config FILE` contract, YAML or JSON):
//   asn, routerId, listen {address, port (0 = never listen)}, api {address, port, token?},
//   neighbors [{address, asn, families, holdTime, ...}], mrt (TABLE_DUMP_V2 file), routes [RouteSpec].
// Parsing fills defaults and checks every field; errors name the field path.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseIP, parseIPv4 } from './codec/index.js';
import { ROUTE_FAMILIES, toCodecRoute, RouteSpecError, type RouteFamily, type RouteSpec } from './routespec.js';
import type { Policy } from './rib/policy.js';

export interface BfdConfig {
  minTx: number;
  minRx: number;
  multiplier: number;
}

export interface NeighborConfig {
  address: string;
  asn: number;
  families: RouteFamily[];
  /** Seconds; 0 or ≥ 3 (RFC 4271 §4.2). Default 90. */
  holdTime: number;
  /** Seconds; default holdTime / 3. */
  keepalive?: number;
  /** Only accept their connection; never connect. */
  passive: boolean;
  /** Remote TCP port (default 179). */
  port: number;
  /** Local address to bind outgoing connections to. */
  localAddress?: string;
  /** eBGP multihop TTL (default 1 for eBGP, 255 for iBGP). */
  multihop?: number;
  /** RFC 5082 GTSM: send TTL 255 (the kernel checks what arrives: see README). */
  ttlSecurity: boolean;
  connectRetry: number;
  /** Seconds in Idle before an automatic restart after an error (RFC 4271 §8.1.1 IdleHoldTime); doubles on each flap up to idleHoldMaxTime. Default 5. */
  idleHoldTime?: number;
  /** Ceiling of the idle hold back-off in seconds. Default 300. */
  idleHoldMaxTime?: number;
  /** Seconds to wait for the peer's OPEN before sending ours on a new connection (RFC 4271 DelayOpen); 0 = off. */
  delayOpen?: number;
  description?: string;
  /** Add-path for every family (RFC 7911). */
  addPath?: 'send' | 'receive' | 'both';
  /** Graceful restart (RFC 4724): our restart time in seconds, 0 = off. Default 120. */
  gracefulRestart: number;
  /** Cease/1 when the peer sends more prefixes than this (0 = no limit). */
  maxPrefixes: number;
  /** Announce our own address as next hop to this neighbor (always for eBGP). */
  nextHopSelf: boolean;
  routeReflectorClient: boolean;
  bfd?: BfdConfig;
  importPolicy?: Policy;
  exportPolicy?: Policy;
  /** RFC 8203 text sent when we shut the session down. */
  shutdownMessage?: string;
}

export interface SpeakerConfig {
  asn: number;
  routerId: string;
  listen: { address: string; port: number };
  api: { address: string; port: number; token?: string; readToken?: boolean };
  neighbors: NeighborConfig[];
  mrt?: string;
  routes: RouteSpec[];
  /** Restarting-speaker role of graceful restart (RFC 4724 §4.1); absent: a plain start. */
  gracefulRestart?: GracefulRestartConfig;
}

export interface GracefulRestartConfig {
  /**
   * This start is a restart (FRR's `bgpd -K`, GoBGP's `gobgpd -r`; `edgeflow speaker
   * --graceful-restart`): the first OPEN to each neighbor that has graceful restart sets
   * the Restart State bit (R) with forwarding preserved (F) for its families, and we send
   * nothing until those neighbors have sent End-of-RIB (or selectionDeferral runs out).
   */
  restarting: boolean;
  /** Seconds to wait for the neighbors' End-of-RIB before advertising anyway (RFC 4724 Selection_Deferral_Timer; default 360 as FRR). */
  selectionDeferral: number;
}

export class ConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function int(o: Obj, key: string, path: string, dflt: number | undefined, min: number, max: number): number {
  const v = o[key] ?? dflt;
  if (v === undefined) throw new ConfigError(`${path}${key}`, 'is required');
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${path}${key}`, `must be an integer ${min}..${max} (got ${JSON.stringify(v)})`);
  return v;
}
function str(o: Obj, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ConfigError(`${path}${key}`, 'must be a string');
  return v;
}
function bool(o: Obj, key: string, path: string, dflt: boolean): boolean {
  const v = o[key] ?? dflt;
  if (typeof v !== 'boolean') throw new ConfigError(`${path}${key}`, 'must be true or false');
  return v;
}
function ip(o: Obj, key: string, path: string, v4only = false): string | undefined {
  const v = str(o, key, path);
  if (v === undefined) return undefined;
  try {
    if (v4only) parseIPv4(v);
    else parseIP(v);
  } catch {
    throw new ConfigError(`${path}${key}`, `"${v}" is not an ${v4only ? 'IPv4 ' : 'IP '}address`);
  }
  return v;
}
function unknownKeys(o: Obj, allowed: string[], path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new ConfigError(`${path}${k}`, `unknown setting (expected one of ${allowed.join(', ')})`);
}

const NEIGHBOR_KEYS = ['address', 'asn', 'families', 'holdTime', 'keepalive', 'passive', 'port', 'localAddress', 'multihop', 'ttlSecurity', 'connectRetry',
  'idleHoldTime', 'idleHoldMaxTime', 'delayOpen', 'description', 'addPath', 'gracefulRestart', 'maxPrefixes', 'nextHopSelf', 'routeReflectorClient', 'bfd', 'importPolicy', 'exportPolicy', 'shutdownMessage'];

export function parseNeighbor(raw: unknown, path: string): NeighborConfig {
  if (!isObj(raw)) throw new ConfigError(path.replace(/\.$/, ''), 'must be an object');
  unknownKeys(raw, NEIGHBOR_KEYS, path);
  const address = ip(raw, 'address', path);
  if (!address) throw new ConfigError(`${path}address`, 'is required');
  const asn = int(raw, 'asn', path, undefined, 1, 0xffffffff);
  const famRaw = raw.families ?? (address.includes(':') ? ['ipv6-unicast'] : ['ipv4-unicast']);
  if (!Array.isArray(famRaw) || famRaw.length === 0) throw new ConfigError(`${path}families`, 'must be a non-empty list');
  const families = famRaw.map((f, i) => {
    if (!ROUTE_FAMILIES.includes(f as RouteFamily)) throw new ConfigError(`${path}families[${i}]`, `"${f}" is not one of ${ROUTE_FAMILIES.join(', ')}`);
    return f as RouteFamily;
  });
  const holdTime = int(raw, 'holdTime', path, 90, 0, 65535);
  if (holdTime === 1 || holdTime === 2) throw new ConfigError(`${path}holdTime`, 'must be 0 or at least 3 seconds (RFC 4271 §4.2)');
  const n: NeighborConfig = {
    address, asn, families, holdTime,
    passive: bool(raw, 'passive', path, false),
    port: int(raw, 'port', path, 179, 1, 65535),
    ttlSecurity: bool(raw, 'ttlSecurity', path, false),
    connectRetry: int(raw, 'connectRetry', path, 5, 1, 3600),
    idleHoldTime: int(raw, 'idleHoldTime', path, 5, 0, 3600),
    idleHoldMaxTime: 300,
    gracefulRestart: int(raw, 'gracefulRestart', path, 120, 0, 4095),
    maxPrefixes: int(raw, 'maxPrefixes', path, 0, 0, 0xffffffff),
    nextHopSelf: bool(raw, 'nextHopSelf', path, true),
    routeReflectorClient: bool(raw, 'routeReflectorClient', path, false),
  };
  n.idleHoldMaxTime = int(raw, 'idleHoldMaxTime', path, Math.max(300, n.idleHoldTime!), n.idleHoldTime!, 86400);
  if (raw.delayOpen !== undefined) n.delayOpen = int(raw, 'delayOpen', path, undefined, 0, 240);
  if (raw.keepalive !== undefined) n.keepalive = int(raw, 'keepalive', path, undefined, 0, 21845);
  const local = ip(raw, 'localAddress', path);
  if (local) n.localAddress = local;
  if (raw.multihop !== undefined) n.multihop = int(raw, 'multihop', path, undefined, 1, 255);
  const desc = str(raw, 'description', path);
  if (desc !== undefined) n.description = desc;
  const sm = str(raw, 'shutdownMessage', path);
  if (sm !== undefined) n.shutdownMessage = sm;
  if (raw.addPath !== undefined) {
    if (!['send', 'receive', 'both'].includes(raw.addPath as string)) throw new ConfigError(`${path}addPath`, 'must be send, receive or both');
    n.addPath = raw.addPath as NeighborConfig['addPath'];
  }
  if (raw.bfd !== undefined) {
    if (!isObj(raw.bfd)) throw new ConfigError(`${path}bfd`, 'must be an object { minTx, minRx, multiplier }');
    unknownKeys(raw.bfd, ['minTx', 'minRx', 'multiplier'], `${path}bfd.`);
    n.bfd = {
      minTx: int(raw.bfd, 'minTx', `${path}bfd.`, 300, 10, 60000),
      minRx: int(raw.bfd, 'minRx', `${path}bfd.`, 300, 10, 60000),
      multiplier: int(raw.bfd, 'multiplier', `${path}bfd.`, 3, 1, 255),
    };
  }
  for (const k of ['importPolicy', 'exportPolicy'] as const) {
    const p = raw[k];
    if (p === undefined) continue;
    if (!isObj(p) || !Array.isArray(p.rules)) throw new ConfigError(`${path}${k}`, 'must be { rules: [...], default?: permit|deny }');
    n[k] = p as unknown as Policy;
  }
  return n;
}

export function parseRoutes(raw: unknown, path = 'routes'): RouteSpec[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ConfigError(path, 'must be a list');
  return raw.map((r, i) => {
    try {
      toCodecRoute(r as RouteSpec);
    } catch (err) {
      if (err instanceof RouteSpecError) throw new ConfigError(`${path}[${i}].${err.field}`, err.message.replace(/^[^:]*: /, ''));
      throw err;
    }
    return r as RouteSpec;
  });
}

export function parseSpeakerConfig(raw: unknown): SpeakerConfig {
  if (!isObj(raw)) throw new ConfigError('config', 'must be a mapping');
  unknownKeys(raw, ['asn', 'routerId', 'listen', 'api', 'neighbors', 'mrt', 'routes', 'gracefulRestart'], '');
  const asn = int(raw, 'asn', '', undefined, 1, 0xffffffff);
  const routerId = ip(raw, 'routerId', '', true);
  if (!routerId || routerId === '0.0.0.0') throw new ConfigError('routerId', 'is required (a non-zero IPv4 address)');
  const listenRaw = raw.listen ?? {};
  if (!isObj(listenRaw)) throw new ConfigError('listen', 'must be { address, port }');
  unknownKeys(listenRaw, ['address', 'port'], 'listen.');
  const apiRaw = raw.api ?? {};
  if (!isObj(apiRaw)) throw new ConfigError('api', 'must be { address, port }');
  unknownKeys(apiRaw, ['address', 'port', 'token', 'readToken'], 'api.');
  const neighborsRaw = raw.neighbors ?? [];
  if (!Array.isArray(neighborsRaw)) throw new ConfigError('neighbors', 'must be a list');
  const neighbors = neighborsRaw.map((n, i) => parseNeighbor(n, `neighbors[${i}].`));
  const seen = new Set<string>();
  neighbors.forEach((n, i) => {
    if (seen.has(n.address)) throw new ConfigError(`neighbors[${i}].address`, `${n.address} is configured twice`);
    seen.add(n.address);
  });
  const cfg: SpeakerConfig = {
    asn,
    routerId,
    listen: { address: ip(listenRaw, 'address', 'listen.') ?? '0.0.0.0', port: int(listenRaw, 'port', 'listen.', 179, 0, 65535) },
    api: { address: ip(apiRaw, 'address', 'api.') ?? '127.0.0.1', port: int(apiRaw, 'port', 'api.', 8179, 0, 65535) },
    neighbors,
    routes: parseRoutes(raw.routes),
  };
  const token = str(apiRaw, 'token', 'api.');
  if (token !== undefined) cfg.api.token = token;
  if (apiRaw.readToken !== undefined) cfg.api.readToken = bool(apiRaw, 'readToken', 'api.', false);
  const mrt = str(raw, 'mrt', '');
  if (mrt !== undefined) cfg.mrt = mrt;
  if (raw.gracefulRestart !== undefined) {
    const g = raw.gracefulRestart;
    if (!isObj(g)) throw new ConfigError('gracefulRestart', 'must be { restarting, selectionDeferral }');
    unknownKeys(g, ['restarting', 'selectionDeferral'], 'gracefulRestart.');
    cfg.gracefulRestart = {
      restarting: bool(g, 'restarting', 'gracefulRestart.', false),
      selectionDeferral: int(g, 'selectionDeferral', 'gracefulRestart.', 360, 1, 3600),
    };
  }
  return cfg;
}

/** Reads a YAML or JSON file (JSON is YAML) and parses it. */
export function loadSpeakerConfig(file: string): SpeakerConfig {
  const text = readFileSync(file, 'utf8');
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(file, `not valid YAML/JSON: ${(err as Error).message}`);
  }
  return parseSpeakerConfig(raw);
}
