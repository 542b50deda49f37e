// /api/v1/bgp: neighbors, RIB views and local routes of a speaker (standalone or inside
// the agent). Route bodies use the speaker config's route objects.
import type { FastifyInstance } from 'fastify';
import type { SpeakerApi } from '../../bgp/view.js';
import { ROUTE_FAMILIES, RouteSpecError, toCodecRoute, type RouteSpec } from '../../bgp/routespec.js';
import { ApiError, errorSchema } from './errors.js';

const counters = {
  type: 'object',
  properties: Object.fromEntries(['open', 'update', 'notification', 'keepalive', 'routeRefresh', 'total'].map((k) => [k, { type: 'integer' }])),
};
export const neighborSchema = {
  type: 'object',
  properties: {
    address: { type: 'string' }, asn: { type: 'integer' }, description: { type: 'string' },
    state: { type: 'string', enum: ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] },
    uptime: { type: 'number' }, lastChange: { type: 'string' }, remoteId: { type: 'string' }, localAddress: { type: 'string' },
    holdTime: { type: 'integer' }, keepalive: { type: 'integer' },
    families: { type: 'array', items: { type: 'string' } },
    capabilities: { type: 'array', items: { type: 'string' } },
    prefixes: { type: 'object', properties: { received: { type: 'integer' }, accepted: { type: 'integer' }, advertised: { type: 'integer' } } },
    messages: { type: 'object', properties: { sent: counters, received: counters } },
    flaps: { type: 'integer' },
    lastError: {
      type: 'object',
      properties: { direction: { type: 'string' }, code: { type: 'integer' }, subcode: { type: 'integer' }, reason: { type: 'string' }, message: { type: 'string' }, at: { type: 'string' } },
    },
    bfd: {
      type: 'object',
      properties: { state: { type: 'string' }, remoteState: { type: 'string' }, diag: { type: 'string' }, txInterval: { type: 'number' }, rxInterval: { type: 'number' }, multiplier: { type: 'integer' }, detectionTimeMs: { type: 'number' } },
    },
  },
} as const;

const pathSchema = {
  type: 'object',
  properties: {
    family: { type: 'string' }, prefix: { type: 'string' }, nlri: { type: 'object', additionalProperties: true }, pathId: { type: 'integer' },
    peer: { type: 'string' }, nextHop: { type: 'string' }, asPath: { type: 'array', items: { type: 'integer' } }, origin: { type: 'string' },
    localPref: { type: 'integer' }, med: { type: 'integer' },
    communities: { type: 'array', items: { type: 'string' } }, largeCommunities: { type: 'array', items: { type: 'string' } },
    extendedCommunities: { type: 'array', items: { type: 'string' } },
    best: { type: 'boolean' }, reason: { type: 'string' }, stale: { type: 'boolean' }, age: { type: 'number' },
  },
} as const;

export const routeSpecSchema = {
  type: 'object',
  required: ['prefix'],
  additionalProperties: false,
  properties: {
    family: { type: 'string', enum: ROUTE_FAMILIES },
    prefix: { type: 'string', examples: ['198.51.100.7/32'] },
    nextHop: { type: 'string' },
    rd: { type: 'string', examples: ['65020:10'] },
    routeTargets: { type: 'array', items: { type: 'string' } },
    label: { type: 'integer', minimum: 0, maximum: 1048575 },
    routeType: { type: 'integer', enum: [5] },
    vni: { type: 'integer', minimum: 1, maximum: 16777215 },
    routerMac: { type: 'string' },
    gateway: { type: 'string' },
    communities: { type: 'array', items: { type: 'string' } },
    largeCommunities: { type: 'array', items: { type: 'string' } },
    extendedCommunities: { type: 'array', items: { type: 'object', additionalProperties: true } },
    localPref: { type: 'integer', minimum: 0, maximum: 4294967295 },
    med: { type: 'integer', minimum: 0, maximum: 4294967295 },
    asPathPrepend: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 4294967295 } },
    origin: { type: 'string', enum: ['IGP', 'EGP', 'INCOMPLETE'] },
  },
} as const;

/** Body: one route object, a list, or { routes: [...] }. */
const routesBody = {
  oneOf: [
    routeSpecSchema,
    { type: 'array', items: routeSpecSchema, minItems: 1 },
    { type: 'object', required: ['routes'], additionalProperties: false, properties: { routes: { type: 'array', items: routeSpecSchema, minItems: 1 } } },
  ],
} as const;

function specsOf(body: unknown): RouteSpec[] {
  if (Array.isArray(body)) return body as RouteSpec[];
  const b = body as { routes?: RouteSpec[] };
  return b.routes ?? [body as RouteSpec];
}

function validateSpecs(specs: RouteSpec[]): void {
  specs.forEach((s, i) => {
    try {
      toCodecRoute(s);
    } catch (err) {
      if (err instanceof RouteSpecError) {
        const field = specs.length > 1 ? `routes[${i}].${err.field}` : err.field;
        throw new ApiError('EF_ERR_BAD_ROUTE', `${field}: ${err.message.replace(/^[^:]*: /, '')}`, field);
      }
      throw err;
    }
  });
}

const familyQuery = {
  type: 'object',
  properties: { family: { type: 'string', enum: ROUTE_FAMILIES, default: 'ipv4-unicast' } },
  additionalProperties: false,
} as const;
const addressParam = { type: 'object', properties: { address: { type: 'string' } }, required: ['address'] } as const;

export async function bgpRoutes(app: FastifyInstance, opts: { speaker: SpeakerApi }): Promise<void> {
  const sp = opts.speaker;
  const tags = ['bgp'];
  app.get('/api/v1/bgp', {
    schema: { tags, summary: 'This speaker: local AS and router ID', response: { 200: { type: 'object', properties: { asn: { type: 'integer' }, routerId: { type: 'string' } } } } },
  }, async () => ({ asn: sp.asn, routerId: sp.routerId }));
  app.get('/api/v1/bgp/neighbors', {
    schema: { tags, summary: 'All neighbors with session state, capabilities and counters', response: { 200: { type: 'array', items: neighborSchema } } },
  }, async () => sp.neighbors());

  app.get<{ Params: { address: string } }>('/api/v1/bgp/neighbors/:address', {
    schema: { tags, summary: 'One neighbor', params: addressParam, response: { 200: neighborSchema, 404: errorSchema } },
  }, async (req) => {
    const n = sp.neighbor(req.params.address);
    if (!n) throw new ApiError('EF_ERR_NOT_FOUND', `no neighbor ${req.params.address}`, 'address');
    return n;
  });

  app.post<{ Params: { address: string }; Body: { mode?: 'soft-in' | 'soft-out' | 'hard' } }>('/api/v1/bgp/neighbors/:address/reset', {
    schema: {
      tags, summary: 'Route refresh (soft-in), re-send (soft-out) or hard reset of a neighbor', params: addressParam,
      body: { type: 'object', properties: { mode: { type: 'string', enum: ['soft-in', 'soft-out', 'hard'], default: 'soft-in' } }, additionalProperties: false },
      response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } }, 404: errorSchema },
    },
  }, async (req) => {
    if (!sp.neighbor(req.params.address)) throw new ApiError('EF_ERR_NOT_FOUND', `no neighbor ${req.params.address}`, 'address');
    return { ok: await sp.resetNeighbor(req.params.address, req.body?.mode ?? 'soft-in') };
  });

  app.get<{ Querystring: { family: string } }>('/api/v1/bgp/rib', {
    schema: { tags, summary: 'Loc-RIB: every path with the best one marked and why', querystring: familyQuery, response: { 200: { type: 'array', items: pathSchema } } },
  }, async (req) => sp.rib(req.query.family));

  for (const kind of ['received', 'advertised'] as const) {
    app.get<{ Params: { address: string }; Querystring: { family: string } }>(`/api/v1/bgp/neighbors/:address/${kind}`, {
      schema: { tags, summary: kind === 'received' ? 'Adj-RIB-In of a neighbor' : 'Adj-RIB-Out of a neighbor', params: addressParam, querystring: familyQuery, response: { 200: { type: 'array', items: pathSchema }, 404: errorSchema } },
    }, async (req) => {
      const r = sp[kind](req.params.address, req.query.family);
      if (!r) throw new ApiError('EF_ERR_NOT_FOUND', `no neighbor ${req.params.address}`, 'address');
      return r;
    });
    // the spelling as an alias: /api/v1/bgp/rib/received?neighbor=…
    app.get<{ Querystring: { family: string; neighbor: string } }>(`/api/v1/bgp/rib/${kind}`, {
      schema: {
        tags, summary: `${kind} routes of one neighbor`,
        querystring: { type: 'object', required: ['neighbor'], properties: { family: familyQuery.properties.family, neighbor: { type: 'string' } }, additionalProperties: false },
        response: { 200: { type: 'array', items: pathSchema }, 404: errorSchema },
      },
    }, async (req) => {
      const r = sp[kind](req.query.neighbor, req.query.family);
      if (!r) throw new ApiError('EF_ERR_NOT_FOUND', `no neighbor ${req.query.neighbor}`, 'neighbor');
      return r;
    });
  }

  app.get('/api/v1/bgp/routes', {
    schema: { tags, summary: 'Local routes (config, API, agent)', response: { 200: { type: 'array', items: routeSpecSchema } } },
  }, async () => sp.localRoutes());

  app.post('/api/v1/bgp/routes', {
    schema: {
      tags, summary: 'Announce local routes (added or replaced by key); all or nothing', body: routesBody, security: [{ bearer: [] }],
      response: { 200: { type: 'object', properties: { added: { type: 'integer' } } }, 400: errorSchema },
    },
  }, async (req) => {
    const specs = specsOf(req.body);
    validateSpecs(specs);
    return { added: await sp.addRoutes(specs) };
  });

  app.delete('/api/v1/bgp/routes', {
    schema: {
      tags, summary: 'Withdraw local routes (by key)', body: routesBody, security: [{ bearer: [] }],
      response: { 200: { type: 'object', properties: { removed: { type: 'integer' } } }, 400: errorSchema },
    },
  }, async (req) => {
    const specs = specsOf(req.body);
    validateSpecs(specs);
    return { removed: await sp.removeRoutes(specs) };
  });
}
