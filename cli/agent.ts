// `edgeflow agent --config FILE`: the per-compute daemon (see agent/agent.ts) with the
// REST API: intent (/api/v1/chassis, networks, tenants, ports, floatingips), state
// (/api/v1/bgp/..., /api/v1/nat, /api/v1/status), /metrics, /healthz, OpenAPI at /docs.
// SIGTERM/SIGINT: stop for a restart (graceful restart; NAT stays in the kernel).
// SIGUSR2: withdraw every route (Cease/Administrative Shutdown) and stop.
import { pino } from 'pino';
import { ConfigError } from '../bgp/config.js';
import { loadAgentConfig } from '../agent/config.js';
import { Agent } from '../agent/agent.js';
import { buildServer } from '../agent/api/server.js';
import { bgpRoutes } from '../agent/api/bgp.js';
import { intentRoutes } from '../agent/api/intent.js';
import { stateRoutes } from '../agent/api/state.js';
import { createMetrics, metricsRoute } from '../agent/metrics.js';

export async function runAgent(args: string[]): Promise<number> {
  let file = '';
  let level = process.env.EDGEFLOW_LOG ?? 'info';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--config' || a === '-c') file = args[++i] ?? '';
    else if (a === '--log-level') level = args[++i] ?? level;
    else {
      process.stderr.write(`edgeflow agent: unknown option ${a}\n`);
      return 2;
    }
  }
  if (!file) {
    process.stderr.write('usage: edgeflow agent --config FILE [--log-level L]\n');
    return 2;
  }
  let cfg;
  try {
    cfg = loadAgentConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`edgeflow agent: ${file}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = pino({ level, base: { svc: 'edgeflow-agent', chassis: cfg.chassis } });
  const agent = new Agent(cfg, { log });
  await agent.start();
  const metrics = createMetrics({ speaker: agent.speaker });
  agent.attachMetrics(metrics);
  const tApi = performance.now();
  const app = await buildServer({ token: cfg.api.token, readToken: cfg.api.readToken, title: 'edgeflow agent API' });
  await app.register(bgpRoutes, { speaker: agent.speaker });
  await app.register(intentRoutes, { store: agent.store, known: agent.known });
  await app.register(stateRoutes, { agent });
  await app.register(metricsRoute, { metrics });
  await app.ready();
  agent.startMs['api'] = Math.round(performance.now() - tApi);
  await agent.run();
  await app.listen({ host: cfg.api.address, port: cfg.api.port });
  log.info({ api: `${cfg.api.address}:${cfg.api.port}`, store: cfg.store.driver, startMs: agent.startMs }, 'agent started');
  await new Promise<void>((resolve) => {
    const stop = (withdraw: boolean) => async () => {
      log.info({ withdraw }, withdraw ? 'shutting down: withdrawing routes' : 'stopping for restart (graceful restart; NAT kept)');
      await agent.stop({ withdraw });
      resolve();
    };
    process.once('SIGTERM', stop(false));
    process.once('SIGINT', stop(false));
    process.once('SIGUSR2', stop(true));
  });
  await app.close();
  return 0;
}
