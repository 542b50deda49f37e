// Prometheus metrics (prom-client), one registry per process. Session and route gauges
// are read from the speaker's views at scrape time, so they are never stale; event
// counters and histograms (reconcile latency, watch lag) are observed where they happen.
import { Registry, Gauge, Counter, Histogram, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { SpeakerApi } from '../bgp/view.js';

const STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

export interface Metrics {
  registry: Registry;
  reconcileSeconds: Histogram<'result'>;
  watchLagSeconds: Histogram;
  reconcileErrors: Counter<'stage'>;
  fips: Gauge<'state'>;
}

export function createMetrics(opts: { speaker?: SpeakerApi; defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaults !== false) collectDefaultMetrics({ register: registry, prefix: 'edgeflow_process_' });
  const sp = opts.speaker;
  if (sp) {
    new Gauge({
      name: 'edgeflow_bgp_session_state', help: 'BGP session state per neighbor (1 for the current state)', labelNames: ['neighbor', 'state'], registers: [registry],
      collect() {
        this.reset();
        for (const n of sp.neighbors()) for (const s of STATES) this.set({ neighbor: n.address, state: s }, n.state === s ? 1 : 0);
      },
    });
    new Gauge({
      name: 'edgeflow_bgp_session_up', help: '1 when the session is Established', labelNames: ['neighbor'], registers: [registry],
      collect() {
        this.reset();
        for (const n of sp.neighbors()) this.set({ neighbor: n.address }, n.state === 'Established' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'edgeflow_bgp_prefixes', help: 'Prefixes per neighbor by direction', labelNames: ['neighbor', 'direction'], registers: [registry],
      collect() {
        this.reset();
        for (const n of sp.neighbors()) {
          this.set({ neighbor: n.address, direction: 'received' }, n.prefixes.received);
          this.set({ neighbor: n.address, direction: 'accepted' }, n.prefixes.accepted);
          this.set({ neighbor: n.address, direction: 'advertised' }, n.prefixes.advertised);
        }
      },
    });
    new Gauge({
      name: 'edgeflow_bgp_messages_total', help: 'BGP messages per neighbor, direction and type', labelNames: ['neighbor', 'direction', 'type'], registers: [registry],
      collect() {
        this.reset();
        for (const n of sp.neighbors()) {
          for (const dir of ['sent', 'received'] as const) {
            for (const [type, v] of Object.entries(n.messages[dir])) if (type !== 'total') this.set({ neighbor: n.address, direction: dir, type }, v);
          }
        }
      },
    });
    new Gauge({
      name: 'edgeflow_bgp_session_flaps', help: 'Times the session left Established', labelNames: ['neighbor'], registers: [registry],
      collect() {
        this.reset();
        for (const n of sp.neighbors()) this.set({ neighbor: n.address }, n.flaps);
      },
    });
    new Gauge({
      name: 'edgeflow_bfd_session_up', help: '1 when the BFD session is Up', labelNames: ['neighbor'], registers: [registry],
      collect() {
        this.reset();
        for (const n of sp.neighbors()) if (n.bfd) this.set({ neighbor: n.address }, n.bfd.state === 'Up' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'edgeflow_bgp_local_routes', help: 'Routes this speaker originates', registers: [registry],
      collect() {
        this.set(sp.localRoutes().length);
      },
    });
  }
  return {
    registry,
    reconcileSeconds: new Histogram({
      name: 'edgeflow_reconcile_duration_seconds', help: 'Per pass: from the arrival of the oldest intent change it applies (or its start, when none) to kernel NAT and routes applied', labelNames: ['result'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
    }),
    watchLagSeconds: new Histogram({
      name: 'edgeflow_store_watch_lag_seconds', help: 'Time from a store write made by this agent (API or status) until its own store watch delivers it', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1], registers: [registry],
    }),
    reconcileErrors: new Counter({ name: 'edgeflow_reconcile_errors_total', help: 'Reconcile failures by stage', labelNames: ['stage'], registers: [registry] }),
    fips: new Gauge({ name: 'edgeflow_floating_ips', help: 'Floating IPs on this chassis by state (active, standby)', labelNames: ['state'], registers: [registry] }),
  };
}

/** GET /metrics in the Prometheus text format. */
export async function metricsRoute(app: FastifyInstance, opts: { metrics: Metrics }): Promise<void> {
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['ops'] } }, async (_req, reply) => {
    reply.header('content-type', opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });
}
