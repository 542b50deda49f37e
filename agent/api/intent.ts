// /api/v1 intent resources in the spirit of Neutron's API: chassis, networks, tenants,
// ports, floatingips (and the BGP speaker settings) — list, show, create, update,
// delete, with Neutron-style envelopes ({"floatingip": {...}}, {"floatingips": [...]})
// and a `revision` on every object (Neutron's revision_number) that PUT may pass back
// for compare-and-swap. Every write is one store transaction: nothing partial is
// written. Floating IPs are allocated from the network's pools by the store's
// race-free allocation; PUT re-associates them (planned failover) or sets the standby.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  StoreError, idOf, type FloatingIp, type IntentObject, type IntentStore, type Kind, type KindMap, type KnownLookup, type Port, type Stored,
} from '../../store/index.js';
import { ApiError, errorSchema } from './errors.js';

// ---------------------------------------------------------------------------
// Resources.

type ApiKind = Exclude<Kind, 'agent'>;

interface Resource {
  kind: ApiKind;
  /** Path segment and list envelope. */
  plural: string;
  /** Object envelope. */
  singular: string;
  /** The id property ('name' for chassis). */
  idField: string;
  /** Schema of the object's properties. */
  properties: Record<string, object>;
  /** Required on create (the id is generated when absent, except for chassis). */
  required: string[];
  /** Fields a list may be filtered on (equality). */
  filters: string[];
  /** Fields fixed after create. */
  immutable: string[];
  summary: string;
}

const str = { type: 'string' } as const;
const ip = { type: 'string', examples: ['198.51.100.7'] } as const;
const id = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' } as const;
const nullableId = { type: ['string', 'null'], pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' } as const;
const strings = { type: 'array', items: str } as const;
const asn = { type: 'integer', minimum: 1, maximum: 4294967295 } as const;

const RESOURCES: Resource[] = [
  {
    kind: 'chassis', plural: 'chassis', singular: 'chassis', idField: 'name',
    summary: 'compute nodes: uplink (BGP next hop), SNAT addresses, ASN, BGP neighbors',
    properties: {
      name: id, uplinkIp: ip, uplinkIpv6: ip, snatAddresses: strings, localAsn: asn, routerId: ip,
      bgpNeighbors: {
        type: 'array',
        items: {
          type: 'object', additionalProperties: false, required: ['address', 'asn'],
          properties: { address: ip, asn, families: strings, bfd: { type: 'boolean' }, description: str },
        },
      },
    },
    required: ['name', 'uplinkIp', 'localAsn'], filters: [], immutable: [],
  },
  {
    kind: 'network', plural: 'networks', singular: 'network', idField: 'id',
    summary: 'external networks: CIDR, floating IP allocation pools, l2/l3 mode, address scope',
    properties: {
      id, name: str, cidr: { type: 'string', examples: ['198.51.100.0/24'] }, gatewayIp: ip,
      pools: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['start', 'end'], properties: { start: ip, end: ip } } },
      mode: { type: 'string', enum: ['l2', 'l3'] }, addressScope: id,
    },
    required: ['cidr', 'pools'], filters: ['addressScope', 'mode'], immutable: [],
  },
  {
    kind: 'tenant', plural: 'tenants', singular: 'tenant', idField: 'id',
    summary: 'tenants: subnets, address scope, optional VRF (VPNv4/VPNv6 or EVPN type-5)',
    properties: {
      id, name: str, subnets: strings, addressScope: id,
      vrf: {
        type: 'object', additionalProperties: false,
        properties: { rd: str, importRts: strings, exportRts: strings, label: { type: 'integer' }, vni: { type: 'integer' }, routerMac: str },
      },
    },
    required: ['subnets'], filters: ['addressScope'], immutable: [],
  },
  {
    kind: 'port', plural: 'ports', singular: 'port', idField: 'id',
    summary: 'VM ports: tenant, fixed IP, chassis binding',
    properties: { id, tenant: id, fixedIp: ip, chassis: nullableId, interfaceName: str, mac: str },
    required: ['tenant', 'fixedIp'], filters: ['tenant', 'chassis'], immutable: ['tenant'],
  },
  {
    kind: 'floatingip', plural: 'floatingips', singular: 'floatingip', idField: 'id',
    summary: 'floating IPs: allocated from a network pool, associated with a port, optional hot-standby port',
    properties: {
      id, address: ip, network: id, tenant: id, portId: nullableId, standbyPortId: nullableId, activeChassis: nullableId, description: str,
    },
    required: ['network'], filters: ['network', 'tenant', 'portId', 'activeChassis'], immutable: ['address', 'network', 'tenant'],
  },
  {
    kind: 'speaker', plural: 'speakers', singular: 'speaker', idField: 'id',
    summary: 'BGP speaker settings: what to advertise, per-chassis or central mode, communities per route class',
    properties: {
      id, advertiseFipHostRoutes: { type: 'boolean' }, advertiseSnatAddresses: { type: 'boolean' }, advertiseTenantPrefixes: { type: 'boolean' },
      mode: { type: 'string', enum: ['per-chassis', 'central'] }, standbyAsPathPrepend: { type: 'integer', minimum: 0, maximum: 10 },
      communities: { type: 'object', additionalProperties: false, properties: { fip: strings, snat: strings, tenant: strings, standby: strings } },
    },
    required: ['id'], filters: ['mode'], immutable: [],
  },
];

/** Response-only properties. */
const revisionProp = { type: 'integer', description: 'modification revision; pass it back on PUT for compare-and-swap' } as const;
const fipStatusProp = {
  type: 'string', enum: ['ACTIVE', 'PENDING', 'DOWN'],
  description: 'ACTIVE: the chassis of the port has announced it; PENDING: bound, not yet (or still moving); DOWN: no port or unbound port',
} as const;

function objectSchema(r: Resource, mode: 'create' | 'update' | 'response'): object {
  const properties: Record<string, object> = { ...r.properties };
  if (mode === 'update') properties['revision'] = revisionProp;
  if (mode === 'response') {
    properties['revision'] = revisionProp;
    if (r.kind === 'floatingip') properties['status'] = fipStatusProp;
  }
  if (mode === 'create' && r.kind === 'floatingip') delete properties['activeChassis'];
  return {
    type: 'object',
    additionalProperties: mode === 'response',
    properties,
    ...(mode === 'create' ? { required: r.required } : {}),
  };
}

function envelope(name: string, inner: object): object {
  return { type: 'object', additionalProperties: false, required: [name], properties: { [name]: inner } };
}

// ---------------------------------------------------------------------------
// Errors: StoreError codes → the API catalogue; fields get the envelope prefix.

export function apiErrorOf(err: unknown, envelopeName?: string): unknown {
  if (!(err instanceof StoreError)) return err;
  const f = err.fields[0]?.field;
  const field = f !== undefined && envelopeName ? (f ? `${envelopeName}.${f}` : envelopeName) : f;
  const message = envelopeName && err.fields.length
    ? err.fields.map((x) => `${x.field ? `${envelopeName}.${x.field}` : envelopeName}: ${x.message}`).join('; ')
    : err.message;
  switch (err.code) {
    case 'EF_STORE_VALIDATION':
      return new ApiError('EF_ERR_BAD_INTENT', message, field);
    case 'EF_STORE_NOT_FOUND':
      return new ApiError('EF_ERR_NOT_FOUND', err.message, field);
    case 'EF_STORE_CONFLICT':
      return new ApiError('EF_ERR_CONFLICT', err.message, field ?? (envelopeName ? `${envelopeName}.revision` : 'revision'));
    case 'EF_STORE_UNIQUE':
      return new ApiError('EF_ERR_CONFLICT', message, field);
    case 'EF_STORE_POOL_EXHAUSTED':
      return new ApiError('EF_ERR_POOL_EXHAUSTED', err.message, field);
    case 'EF_STORE_CONTENDED':
    case 'EF_STORE_UNAVAILABLE':
    case 'EF_STORE_CLOSED':
    case 'EF_STORE_COMPACTED':
      return new ApiError('EF_ERR_UNAVAILABLE', `${err.message}; nothing was changed`);
    case 'EF_STORE_TXN_TOO_LARGE':
    case 'EF_STORE_CORRUPT':
      return new ApiError('EF_ERR_INTERNAL', err.message);
  }
}

async function guard<T>(envelopeName: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw apiErrorOf(err, envelopeName);
  }
}

// ---------------------------------------------------------------------------
// Views.

/** Neutron-like FIP status from intent (port binding) and status (activeChassis). */
export function fipStatus(f: FloatingIp, port: Port | undefined): 'ACTIVE' | 'PENDING' | 'DOWN' {
  if (!f.portId || !port || port.chassis === null) return 'DOWN';
  return f.activeChassis === port.chassis ? 'ACTIVE' : 'PENDING';
}

function view(s: Stored, ports?: Map<string, Port>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(s.value as object), revision: s.modRevision };
  if (s.kind === 'floatingip' && ports) {
    const f = s.value as FloatingIp;
    out['status'] = fipStatus(f, f.portId ? ports.get(f.portId) : undefined);
  }
  return out;
}

async function portsById(store: IntentStore): Promise<Map<string, Port>> {
  const { items } = await store.list('port');
  return new Map(items.map((p) => [p.id, p.value]));
}

// ---------------------------------------------------------------------------
// References that keep an object from being deleted (the store does not refuse it).

async function referrers(store: IntentStore, kind: ApiKind, objId: string): Promise<string[]> {
  const out: string[] = [];
  const fipsNaming = async (pred: (f: FloatingIp) => boolean): Promise<void> => {
    for (const f of (await store.list('floatingip')).items) if (pred(f.value)) out.push(`floatingip ${f.id}`);
  };
  const portsNaming = async (pred: (p: Port) => boolean): Promise<void> => {
    for (const p of (await store.list('port')).items) if (pred(p.value)) out.push(`port ${p.id}`);
  };
  switch (kind) {
    case 'port':
      await fipsNaming((f) => f.portId === objId || f.standbyPortId === objId);
      break;
    case 'network':
      await fipsNaming((f) => f.network === objId);
      break;
    case 'tenant':
      await portsNaming((p) => p.tenant === objId);
      await fipsNaming((f) => f.tenant === objId);
      break;
    case 'chassis':
      await portsNaming((p) => p.chassis === objId);
      break;
    default:
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The plugin.

export interface IntentRoutesOptions {
  store: IntentStore;
  /**
   * Objects the caller has seen (an agent: its watched view). POST /floatingips then
   * writes in one round trip when it knows the network, tenant and port: the store's
   * transaction guards each by revision (see IntentStore.allocateFloatingIp).
   */
  known?: KnownLookup;
}

const idParam = { type: 'object', required: ['id'], properties: { id: str } } as const;

export async function intentRoutes(app: FastifyInstance, opts: IntentRoutesOptions): Promise<void> {
  const store = opts.store;
  const known = opts.known;
  for (const r of RESOURCES) {
    const base = `/api/v1/${r.plural}`;
    const tags = ['intent'];
    const one = envelope(r.singular, objectSchema(r, 'response'));
    const errs = { 400: errorSchema, 404: errorSchema, 409: errorSchema, 503: errorSchema };

    app.get<{ Querystring: Record<string, string> }>(base, {
      schema: {
        tags, summary: `List ${r.summary}`,
        querystring: { type: 'object', additionalProperties: false, properties: Object.fromEntries(r.filters.map((f) => [f, str])) },
        response: {
          200: { type: 'object', properties: { [r.plural]: { type: 'array', items: objectSchema(r, 'response') }, revision: { type: 'integer' } } },
          503: errorSchema,
        },
      },
    }, async (req) => guard(undefined, async () => {
      const { items, revision } = await store.list(r.kind);
      const ports = r.kind === 'floatingip' ? await portsById(store) : undefined;
      const q = req.query ?? {};
      const match = (o: IntentObject): boolean => r.filters.every((f) => q[f] === undefined || String((o as unknown as Record<string, unknown>)[f] ?? '') === q[f]);
      return { [r.plural]: items.filter((s) => match(s.value)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((s) => view(s, ports)), revision };
    }));

    app.get<{ Params: { id: string } }>(`${base}/:id`, {
      schema: { tags, summary: `Show one of the ${r.plural}`, params: idParam, response: { 200: one, ...errs } },
    }, async (req) => guard(r.singular, async () => {
      const s = await store.get(r.kind, req.params.id);
      if (!s) throw new ApiError('EF_ERR_NOT_FOUND', `${r.singular} ${req.params.id} does not exist`, 'id');
      let ports: Map<string, Port> | undefined;
      if (r.kind === 'floatingip') {
        const f = s.value as FloatingIp;
        const p = f.portId ? await store.get('port', f.portId) : undefined;
        ports = new Map(p ? [[p.id, p.value]] : []);
      }
      return { [r.singular]: view(s, ports) };
    }));

    app.post<{ Body: Record<string, Record<string, unknown>> }>(base, {
      schema: {
        tags, summary: r.kind === 'floatingip' ? 'Allocate a floating IP from the network\'s pools (or take a given free address)' : `Create one of the ${r.plural}`,
        body: envelope(r.singular, objectSchema(r, 'create')), security: [{ bearer: [] }],
        response: { 201: one, ...errs },
      },
    }, async (req, reply) => guard(r.singular, async () => {
      const body = { ...req.body[r.singular]! };
      let stored: Stored;
      if (r.kind === 'floatingip') stored = await createFip(store, body, known);
      else {
        if (body[r.idField] === undefined && r.kind !== 'chassis') body[r.idField] = randomUUID();
        stored = await store.put(r.kind, body, { expectRevision: 0 }).catch((err: unknown) => {
          if (err instanceof StoreError && err.code === 'EF_STORE_CONFLICT') {
            throw new ApiError('EF_ERR_CONFLICT', `${r.singular} ${String(body[r.idField])} already exists`, `${r.singular}.${r.idField}`);
          }
          throw err;
        });
      }
      const ports = stored.kind === 'floatingip' ? await fipPorts(store, stored.value as FloatingIp, known) : undefined;
      return reply.status(201).send({ [r.singular]: view(stored, ports) });
    }));

    app.put<{ Params: { id: string }; Body: Record<string, Record<string, unknown>> }>(`${base}/:id`, {
      schema: {
        tags,
        summary: r.kind === 'floatingip'
          ? 'Update a floating IP: re-associate it to another port (planned failover), set or clear its standby port, change its description'
          : `Update one of the ${r.plural} (the given fields; null clears a nullable one)`,
        params: idParam, body: envelope(r.singular, objectSchema(r, 'update')), security: [{ bearer: [] }],
        response: { 200: one, ...errs },
      },
    }, async (req) => guard(r.singular, async () => {
      const patch = { ...req.body[r.singular]! };
      const expect = patch['revision'] as number | undefined;
      delete patch['revision'];
      const stored = await updateObject(store, r, req.params.id, patch, expect);
      const ports = stored.kind === 'floatingip' ? await fipPorts(store, stored.value as FloatingIp, known) : undefined;
      return { [r.singular]: view(stored, ports) };
    }));

    app.delete<{ Params: { id: string }; Querystring: { revision?: number } }>(`${base}/:id`, {
      schema: {
        tags, summary: r.kind === 'floatingip' ? 'Release a floating IP (its address returns to the pool)' : `Delete one of the ${r.plural} (refused while others name it)`,
        params: idParam, querystring: { type: 'object', additionalProperties: false, properties: { revision: { type: 'integer', minimum: 1 } } },
        security: [{ bearer: [] }], response: { 204: { type: 'null' }, ...errs },
      },
    }, async (req, reply) => guard(undefined, async () => {
      // Without ?revision= the caller asked for no compare-and-swap: a concurrent write
      // (e.g. the agent claiming activeChassis right after a create) only means read again.
      for (let attempt = 0; ; attempt++) {
        const cur = await store.get(r.kind, req.params.id);
        if (!cur) throw new ApiError('EF_ERR_NOT_FOUND', `${r.singular} ${req.params.id} does not exist`, 'id');
        if (req.query.revision !== undefined && req.query.revision !== cur.modRevision) {
          throw new ApiError('EF_ERR_CONFLICT', `${r.singular} ${req.params.id} is at revision ${cur.modRevision}, not ${req.query.revision}`, 'revision');
        }
        const refs = await referrers(store, r.kind, req.params.id);
        if (refs.length) {
          throw new ApiError('EF_ERR_CONFLICT', `${r.singular} ${req.params.id} is still used by ${refs.slice(0, 5).join(', ')}${refs.length > 5 ? ` and ${refs.length - 5} more` : ''}`, 'id');
        }
        try {
          await store.delete(r.kind, req.params.id, { expectRevision: cur.modRevision });
          return reply.status(204).send();
        } catch (err) {
          if (req.query.revision === undefined && attempt < 20 && err instanceof StoreError && err.code === 'EF_STORE_CONFLICT') continue;
          throw err;
        }
      }
    }));
  }
}

/** The FIP's port (for its status), as the caller has seen it or else read. */
async function fipPorts(store: IntentStore, f: FloatingIp, known?: KnownLookup): Promise<Map<string, Port>> {
  const p = f.portId ? known?.('port', f.portId) ?? await store.get('port', f.portId) : undefined;
  return new Map(p && f.portId ? [[f.portId, p.value]] : []);
}

/**
 * POST /floatingips: tenant defaults to the port's (a port's tenant never changes; the
 * store checks that they match); allocation is the store's (CAS, never twice).
 */
async function createFip(store: IntentStore, body: Record<string, unknown>, known?: KnownLookup): Promise<Stored<'floatingip'>> {
  let tenant = body['tenant'] as string | undefined;
  const portId = (body['portId'] as string | null | undefined) ?? null;
  if (tenant === undefined) {
    if (!portId) throw new ApiError('EF_ERR_BAD_INTENT', 'floatingip.tenant: is required when no portId is given', 'floatingip.tenant');
    const p = known?.('port', portId) ?? await store.get('port', portId);
    if (!p) throw new ApiError('EF_ERR_BAD_INTENT', `floatingip.portId: port ${portId} does not exist`, 'floatingip.portId');
    tenant = p.value.tenant;
  }
  return store.allocateFloatingIp({
    network: body['network'] as string,
    tenant,
    ...(body['id'] !== undefined ? { id: body['id'] as string } : {}),
    ...(body['address'] !== undefined ? { address: body['address'] as string } : {}),
    portId,
    ...(body['standbyPortId'] !== undefined ? { standbyPortId: body['standbyPortId'] as string | null } : {}),
    ...(body['description'] !== undefined ? { description: body['description'] as string } : {}),
  }, { known });
}

/**
 * PUT: merge the given fields into the current object and write it with
 * compare-and-swap (against `expect` when given, else the revision just read, retried).
 * Floating IPs: `activeChassis` is status written by agents, not by operators; moving
 * a FIP onto its own standby port swaps the two (the old port becomes the standby)
 * unless the request sets standbyPortId itself.
 */
async function updateObject(store: IntentStore, r: Resource, objId: string, patch: Record<string, unknown>, expect: number | undefined): Promise<Stored> {
  if (patch[r.idField] !== undefined && patch[r.idField] !== objId) {
    throw new ApiError('EF_ERR_BAD_INTENT', `${r.singular}.${r.idField}: cannot change the ${r.idField} (${objId})`, `${r.singular}.${r.idField}`);
  }
  if (r.kind === 'floatingip' && 'activeChassis' in patch) {
    throw new ApiError('EF_ERR_BAD_INTENT', 'floatingip.activeChassis: is status written by the agents, not by an update', 'floatingip.activeChassis');
  }
  const merge = (cur: Record<string, unknown>): Record<string, unknown> => {
    for (const f of r.immutable) {
      if (patch[f] !== undefined && patch[f] !== cur[f]) {
        throw new ApiError('EF_ERR_BAD_INTENT', `${r.singular}.${f}: cannot be changed (it is ${String(cur[f])}); create a new ${r.singular} instead`, `${r.singular}.${f}`);
      }
    }
    const next: Record<string, unknown> = { ...cur, ...patch };
    if (r.kind === 'floatingip' && patch['portId'] !== undefined && !('standbyPortId' in patch) && patch['portId'] !== null && patch['portId'] === cur['standbyPortId']) {
      next['standbyPortId'] = cur['portId'] ?? null;
    }
    for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
    return next;
  };
  for (let attempt = 0; attempt < 20; attempt++) {
    const cur = await store.get(r.kind, objId);
    if (!cur) throw new ApiError('EF_ERR_NOT_FOUND', `${r.singular} ${objId} does not exist`, 'id');
    if (expect !== undefined && expect !== cur.modRevision) {
      throw new ApiError('EF_ERR_CONFLICT', `${r.singular} ${objId} is at revision ${cur.modRevision}, not ${expect}`, `${r.singular}.revision`);
    }
    const next = merge(cur.value as unknown as Record<string, unknown>);
    try {
      const s = await store.put(r.kind, next as unknown as KindMap[typeof r.kind], { expectRevision: cur.modRevision });
      if (idOf(r.kind, s.value) !== objId) throw new Error('id changed');
      return s;
    } catch (err) {
      if (expect === undefined && err instanceof StoreError && err.code === 'EF_STORE_CONFLICT') continue; // lost a race: read again
      throw err;
    }
  }
  throw new ApiError('EF_ERR_UNAVAILABLE', `${r.singular} ${objId} kept changing; nothing was changed, try again`);
}

/** The resources this plugin serves (for docs and tests). */
export const INTENT_RESOURCES: ReadonlyArray<{ kind: ApiKind; path: string; envelope: string }> =
  RESOURCES.map((r) => ({ kind: r.kind, path: `/api/v1/${r.plural}`, envelope: r.singular }));
