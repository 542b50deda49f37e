// `edgeflow speaker --config FILE`: one BGP speaker with its REST API (neighbors, RIB,
// routes, /metrics, /healthz, OpenAPI at /docs). SIGTERM/SIGINT close the sessions
// without a NOTIFICATION, so peers that negotiated graceful restart keep forwarding on
// our routes while we restart (RFC 4724); SIGUSR2 withdraws everything and stops with
// Cease/Administrative Shutdown (RFC 8203 text).
//
// Start order: routes (config, MRT table), then the sessions (listener, connects, BFD),
// then the REST API: importing fastify and compiling its schemas takes ~0.5 s of main
// thread, which no longer delays Established (BFD runs in its own thread and BGP hold
// times are ≥ 3 s, so a session coming up meanwhile loses nothing). /healthz answers
// once the API listens.
import { pino } from 'pino';
import { loadSpeakerConfig, ConfigError } from '../bgp/config.js';
import { Speaker } from '../bgp/speaker.js';

function parseArgs(args: string[]): { config: string; logLevel: string } {
  let config = '';
  let logLevel = process.env.EDGEFLOW_LOG ?? 'info';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--config' || a === '-c') config = args[++i] ?? '';
    else if (a.startsWith('--config=')) config = a.slice(9);
    else if (a === '--log-level') logLevel = args[++i] ?? logLevel;
    else throw new Error(`unknown option ${a} (usage: edgeflow speaker --config FILE [--log-level L])`);
  }
  if (!config) throw new Error('usage: edgeflow speaker --config FILE');
  return { config, logLevel };
}

export async function runSpeaker(args: string[]): Promise<number> {
  const { config: file, logLevel } = parseArgs(args);
  const log = pino({ level: logLevel, base: { svc: 'edgeflow-speaker' } });
  let cfg;
  try {
    cfg = loadSpeakerConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`edgeflow speaker: ${file}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const speaker = new Speaker(cfg, { log });
  await speaker.start();
  const [{ buildServer }, { bgpRoutes }, { createMetrics, metricsRoute }] = await Promise.all([
    import('../agent/api/server.js'), import('../agent/api/bgp.js'), import('../agent/metrics.js'),
  ]);
  const metrics = createMetrics({ speaker });
  const app = await buildServer({ token: cfg.api.token, readToken: cfg.api.readToken, title: 'edgeflow speaker API' });
  await app.register(bgpRoutes, { speaker });
  await app.register(metricsRoute, { metrics });
  await app.ready();
  await app.listen({ host: cfg.api.address, port: cfg.api.port });
  log.info({ asn: cfg.asn, routerId: cfg.routerId, api: `${cfg.api.address}:${cfg.api.port}`, neighbors: cfg.neighbors.length }, 'speaker started');

  await new Promise<void>((resolve) => {
    const graceful = async (sig: string) => {
      log.info({ signal: sig }, 'stopping for restart: sessions closed without NOTIFICATION (graceful restart)');
      await speaker.abandon();
      resolve();
    };
    process.once('SIGTERM', () => void graceful('SIGTERM'));
    process.once('SIGINT', () => void graceful('SIGINT'));
    process.once('SIGUSR2', async () => {
      log.info('administrative shutdown: Cease/Administrative Shutdown to every neighbor');
      await speaker.stop(cfg.neighbors[0]?.shutdownMessage ?? 'edgeflow speaker shut down');
      resolve();
    });
  });
  await app.close();
  return 0;
}
