// Agent configuration (`edgeflow agent --config FILE`, YAML or JSON):
//   chassis: compute1
//   store: { driver: etcd, endpoints: [...] } | { driver: embedded, dir: /var/lib/edgeflow }   (default: embedded)
//   api: { address, port, token?, readToken? }
//   bgp: { asn, routerId, listen: { port: 0 }, neighbors: [...same as the speaker's...] }
//   nat: { externalInterface, mode: l3|l2, table? }
//   bootstrap: intent.yaml       # objects to create when absent (one list per kind)
//   reconcile: { resyncSeconds: 30, drainMs: 1000 }   # drainMs: NAT kept after a withdrawal
// Relative paths are relative to the config file. Errors name the field.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, parseNeighbor, type NeighborConfig } from '../bgp/config.js';
import { parseIPv4 } from '../bgp/codec/index.js';
import type { StoreConfig } from '../store/index.js';

export interface AgentConfig {
  chassis: string;
  store: StoreConfig;
  api: { address: string; port: number; token?: string; readToken?: boolean };
  bgp: { asn?: number; routerId?: string; listen: { address: string; port: number }; neighbors?: NeighborConfig[] };
  nat: { externalInterface: string; mode: 'l3' | 'l2'; table?: string; enabled: boolean };
  bootstrap?: string;
  /** drainMs: how long NAT entries stay after their routes were withdrawn (the ToR may still forward here until it applied the withdrawal); default 1000, 0 = remove at once. */
  reconcile: { resyncSeconds: number; drainMs?: number };
  /** Seconds of the chassis liveness lease. */
  leaseTtl: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function only(o: Obj, keys: string[], path: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new ConfigError(`${path}${k}`, `unknown setting (expected one of ${keys.join(', ')})`);
}
function num(o: Obj, k: string, path: string, dflt: number | undefined, min: number, max: number): number {
  const v = o[k] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${path}${k}`, `must be an integer ${min}..${max}`);
  return v;
}

export function parseAgentConfig(raw: unknown, baseDir = process.cwd()): AgentConfig {
  if (!isObj(raw)) throw new ConfigError('config', 'must be a mapping');
  only(raw, ['chassis', 'store', 'api', 'bgp', 'nat', 'bootstrap', 'reconcile', 'leaseTtl'], '');
  if (typeof raw.chassis !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(raw.chassis)) throw new ConfigError('chassis', 'is required: the name of this chassis in the intent store');
  const st = raw.store ?? { driver: 'embedded', dir: '/var/lib/edgeflow' };
  if (!isObj(st)) throw new ConfigError('store', 'must be { driver: etcd, endpoints } or { driver: embedded, dir }');
  let store: StoreConfig;
  if (st.driver === 'etcd') {
    only(st, ['driver', 'endpoints'], 'store.');
    if (!Array.isArray(st.endpoints) || st.endpoints.length === 0 || !st.endpoints.every((e) => typeof e === 'string')) throw new ConfigError('store.endpoints', 'must list etcd client URLs');
    store = { driver: 'etcd', endpoints: st.endpoints as string[] } as StoreConfig;
  } else if (st.driver === 'embedded' || st.driver === undefined) {
    only(st, ['driver', 'dir'], 'store.');
    if (typeof st.dir !== 'string') throw new ConfigError('store.dir', 'must be a directory');
    store = { driver: 'embedded', dir: resolve(baseDir, st.dir) } as StoreConfig;
  } else throw new ConfigError('store.driver', 'must be etcd or embedded');

  const api = isObj(raw.api) ? raw.api : {};
  only(api, ['address', 'port', 'token', 'readToken'], 'api.');
  const bgp = isObj(raw.bgp) ? raw.bgp : {};
  only(bgp, ['asn', 'routerId', 'listen', 'neighbors'], 'bgp.');
  const listen = isObj(bgp.listen) ? bgp.listen : {};
  only(listen, ['address', 'port'], 'bgp.listen.');
  const nat = isObj(raw.nat) ? raw.nat : undefined;
  if (nat) only(nat, ['externalInterface', 'mode', 'table', 'enabled'], 'nat.');
  const rec = isObj(raw.reconcile) ? raw.reconcile : {};
  only(rec, ['resyncSeconds', 'drainMs'], 'reconcile.');

  const cfg: AgentConfig = {
    chassis: raw.chassis,
    store,
    api: { address: typeof api.address === 'string' ? api.address : '127.0.0.1', port: num(api, 'port', 'api.', 8179, 0, 65535) },
    bgp: { listen: { address: typeof listen.address === 'string' ? listen.address : '0.0.0.0', port: num(listen, 'port', 'bgp.listen.', 0, 0, 65535) } },
    nat: {
      externalInterface: typeof nat?.externalInterface === 'string' ? nat.externalInterface : 'eth1',
      mode: nat?.mode === 'l2' ? 'l2' : 'l3',
      enabled: nat?.enabled !== false,
    },
    reconcile: { resyncSeconds: num(rec, 'resyncSeconds', 'reconcile.', 30, 1, 86400), drainMs: num(rec, 'drainMs', 'reconcile.', 1000, 0, 60000) },
    leaseTtl: num(raw, 'leaseTtl', '', 10, 2, 3600),
  };
  if (nat?.mode !== undefined && nat.mode !== 'l3' && nat.mode !== 'l2') throw new ConfigError('nat.mode', 'must be l3 or l2');
  if (typeof nat?.table === 'string') cfg.nat.table = nat.table;
  if (typeof api.token === 'string') cfg.api.token = api.token;
  if (api.readToken === true) cfg.api.readToken = true;
  if (bgp.asn !== undefined) cfg.bgp.asn = num(bgp, 'asn', 'bgp.', undefined, 1, 0xffffffff);
  if (bgp.routerId !== undefined) {
    try {
      parseIPv4(String(bgp.routerId));
    } catch {
      throw new ConfigError('bgp.routerId', 'must be an IPv4 address');
    }
    cfg.bgp.routerId = String(bgp.routerId);
  }
  if (bgp.neighbors !== undefined) {
    if (!Array.isArray(bgp.neighbors)) throw new ConfigError('bgp.neighbors', 'must be a list');
    cfg.bgp.neighbors = bgp.neighbors.map((n, i) => parseNeighbor(n, `bgp.neighbors[${i}].`));
  }
  if (raw.bootstrap !== undefined) {
    if (typeof raw.bootstrap !== 'string') throw new ConfigError('bootstrap', 'must be a file name');
    cfg.bootstrap = resolve(baseDir, raw.bootstrap);
  }
  return cfg;
}

export function loadAgentConfig(file: string): AgentConfig {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, `cannot read: ${(err as Error).message}`);
  }
  return parseAgentConfig(raw, dirname(resolve(file)));
}
