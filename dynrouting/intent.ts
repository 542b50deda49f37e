// The intent dynrouting reads: plain arrays of store objects (as a store snapshot or
// the agent's chassis view gives them), indexed once, plus the speaker settings that
// apply to one chassis. Pure; no I/O.
import type {
  AgentRecord, Chassis, ExternalNetwork, FloatingIp, IntentObject, Kind, Port, SpeakerSettings, Tenant,
} from '../store/model.js';

/** Everything dynrouting needs; any array may hold only what the caller can see. */
export interface Intent {
  chassis: readonly Chassis[];
  networks: readonly ExternalNetwork[];
  tenants: readonly Tenant[];
  ports: readonly Port[];
  floatingIps: readonly FloatingIp[];
  /** Speaker settings: id `default` and per-chassis overrides (id = chassis name). */
  speakers?: readonly SpeakerSettings[];
  /**
   * Liveness records of running agents. When given, a chassis that still advertises a
   * FIP that moved away (make before break) waits only for a new chassis that is alive;
   * when absent, liveness is not judged (it waits for the new chassis' confirmation).
   */
  agents?: readonly AgentRecord[];
}

/**
 * Settings that the store's SpeakerSettings does not have (yet); modelled here.
 * `vrfRoutes`: for tenants with a VRF, 'add' advertises VPN/EVPN routes in addition to
 * plain unicast, 'replace' advertises only the VPN/EVPN routes.
 */
export interface DynroutingOptions {
  vrfRoutes?: 'add' | 'replace';
}

export type EffectiveSettings = SpeakerSettings & Required<DynroutingOptions>;

export const DEFAULT_SETTINGS: SpeakerSettings = {
  id: 'default',
  advertiseFipHostRoutes: true,
  advertiseSnatAddresses: true,
  advertiseTenantPrefixes: false,
  mode: 'per-chassis',
  standbyAsPathPrepend: 3,
  communities: {},
};

/** Maps by id, built once per computation. */
export class IntentIndex {
  readonly chassis = new Map<string, Chassis>();
  readonly networks = new Map<string, ExternalNetwork>();
  readonly tenants = new Map<string, Tenant>();
  readonly ports = new Map<string, Port>();
  readonly fips: readonly FloatingIp[];
  readonly speakers = new Map<string, SpeakerSettings>();
  readonly alive: ReadonlySet<string> | undefined;

  constructor(readonly intent: Intent) {
    for (const c of intent.chassis) this.chassis.set(c.name, c);
    for (const n of intent.networks) this.networks.set(n.id, n);
    for (const t of intent.tenants) this.tenants.set(t.id, t);
    for (const p of intent.ports) this.ports.set(p.id, p);
    for (const s of intent.speakers ?? []) this.speakers.set(s.id, s);
    this.fips = [...intent.floatingIps].sort((a, b) => cmpStr(a.id, b.id));
    this.alive = intent.agents ? new Set(intent.agents.map((a) => a.chassis)) : undefined;
  }

  /** The settings for `chassis`: its own override, else `default`, else the built-in defaults. */
  settingsFor(chassis: string | undefined, opts: DynroutingOptions = {}): EffectiveSettings {
    const s = (chassis !== undefined ? this.speakers.get(chassis) : undefined) ?? this.speakers.get('default') ?? DEFAULT_SETTINGS;
    return { ...s, communities: s.communities ?? {}, vrfRoutes: opts.vrfRoutes ?? 'add' };
  }

  /** Chassis a port is bound to: a name, null (unbound), or undefined (port not known here). */
  chassisOfPort(portId: string | null | undefined): string | null | undefined {
    if (!portId) return null;
    const p = this.ports.get(portId);
    return p ? p.chassis : undefined;
  }
}

/** Builds an Intent from store items (`store.snapshot().items` or a chassis view). */
export function intentFromObjects(items: Iterable<{ kind: Kind; value: IntentObject }>): Intent {
  const out = { chassis: [] as Chassis[], networks: [] as ExternalNetwork[], tenants: [] as Tenant[], ports: [] as Port[], floatingIps: [] as FloatingIp[], speakers: [] as SpeakerSettings[], agents: [] as AgentRecord[] };
  for (const { kind, value } of items) {
    switch (kind) {
      case 'chassis': out.chassis.push(value as Chassis); break;
      case 'network': out.networks.push(value as ExternalNetwork); break;
      case 'tenant': out.tenants.push(value as Tenant); break;
      case 'port': out.ports.push(value as Port); break;
      case 'floatingip': out.floatingIps.push(value as FloatingIp); break;
      case 'speaker': out.speakers.push(value as SpeakerSettings); break;
      case 'agent': out.agents.push(value as AgentRecord); break;
    }
  }
  return out;
}

export function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
