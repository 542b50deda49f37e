// `edgeflow speaker --config FILE`: one BGP speaker with its REST API (neighbors, RIB,
// routes, /metrics, /healthz, OpenAPI at /docs). SIGTERM/SIGINT close the sessions
// without a NOTIFICATION, so peers that negotiated graceful restart keep forwarding on
// our routes while we restart (RFC 4724); SIGUSR2 withdraws everything and stops with
// Cease/Administrative Shutdown (RFC 8203 text). `--graceful-restart` (or config
// `gracefulRestart: { restarting: true }`) says this start is a restart: R bit in the first
// OPEN, export deferred until the neighbors' End-of-RIB (RFC 4724 §4.1).
//
// Start order: routes (config, MRT table), then the sessions (listener, connects, BFD),
// then — once the sessions being opened are up and have sent their first dump (at most
// 5 s) — the REST API: importing fastify and compiling its schemas takes ~0.5 s of main
// thread, which so delays neither Established nor the first dump (BFD runs in its own
// thread and BGP hold times are ≥ 3 s, so a session meanwhile loses nothing). /healthz
// answers once the API listens.
import { pino } from 'pino';
import { loadSpeakerConfig, ConfigError } from '../bgp/config.js';
import { Speaker } from '../bgp/speaker.js';

const USAGE = 'usage: edgeflow speaker --config FILE [--graceful-restart] [--log-level L]';

function parseArgs(args: string[]): { config: string; logLevel: string; restarting: boolean } {
  let config = '';
  let logLevel = process.env.EDGEFLOW_LOG ?? 'info';
  let restarting = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--config' || a === '-c') config = args[++i] ?? '';
    else if (a.startsWith('--config=')) config = a.slice(9);
    else if (a === '--log-level') logLevel = args[++i] ?? logLevel;
    // this start is a restart (RFC 4724 §4.1), as FRR's `bgpd -K` and GoBGP's `gobgpd -r`
    else if (a === '--graceful-restart' || a === '-r') restarting = true;
    else throw new Error(`unknown option ${a} (${USAGE})`);
  }
  if (!config) throw new Error(USAGE);
  return { config, logLevel, restarting };
}

export async function runSpeaker(args: string[]): Promise<number> {
  const { config: file, logLevel, restarting } = parseArgs(args);
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
  if (restarting) cfg.gracefulRestart = { restarting: true, selectionDeferral: cfg.gracefulRestart?.selectionDeferral ?? 360 };
  const speaker = new Speaker(cfg, { log });
  await speaker.start();
  await speaker.startupSettled(); // sessions up and first dump out before the API's ~0.5 s compile stall
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
