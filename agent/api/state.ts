// /api/v1/nat (the kernel's NAT state as the agent reads it back) and /api/v1/status
// (intent revision applied, last reconcile, errors, counts).
import type { FastifyInstance } from 'fastify';
import type { Agent } from '../agent.js';

export async function stateRoutes(app: FastifyInstance, opts: { agent: Agent }): Promise<void> {
  const agent = opts.agent;
  app.get('/api/v1/nat', {
    schema: {
      tags: ['state'], summary: 'FIP and SNAT entries as the kernel has them (read back from nftables and iproute2)',
      response: { 200: { type: 'object', additionalProperties: true } },
    },
  }, async () => agent.natState());
  app.get('/api/v1/status', {
    schema: {
      tags: ['state'], summary: 'Agent status: intent revision applied, last reconcile, errors',
      response: {
        200: {
          type: 'object',
          properties: {
            chassis: { type: 'string' }, revision: { type: 'integer' }, storeConnected: { type: 'boolean' },
            lastReconcile: { type: 'object', properties: { at: { type: 'string' }, durationMs: { type: 'number' }, result: { type: 'string' }, error: { type: 'string' } } },
            reconciles: { type: 'integer' }, errors: { type: 'integer' },
            fips: { type: 'object', properties: { active: { type: 'integer' }, standby: { type: 'integer' } } },
            routes: { type: 'integer' }, natEntries: { type: 'integer' },
            statusWritesPending: { type: 'integer', description: 'activeChassis claims/releases queued or being written to the store' },
            eventLoop: { type: 'object', properties: { p50Ms: { type: 'number' }, p99Ms: { type: 'number' }, maxMs: { type: 'number' } } },
            skipped: { type: 'array', items: { type: 'object', properties: { what: { type: 'string' }, reason: { type: 'string' } } } },
          },
        },
      },
    },
  }, async () => agent.state);
}
