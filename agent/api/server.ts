// The HTTP server shared by `edgeflow speaker` and `edgeflow agent`: fastify with JSON
// schemas (validate, serialize, document), OpenAPI at /docs, bearer-token auth for
// writes (and reads when asked), and one error shape from the catalogue in errors.ts.
import Fastify, { type FastifyInstance, type FastifyError } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors.js';

export interface ServerOptions {
  /** Bearer token required for writes (POST/PUT/PATCH/DELETE). None: writes are open. */
  token?: string;
  /** Also require the token for reads. */
  readToken?: boolean;
  /** pino logger options or false. */
  logger?: boolean | object;
  title?: string;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** "/routes/0/prefix" or a missing property → the field name an operator recognises: "routes[0].prefix". */
export function fieldOf(err: FastifyError): string | undefined {
  const v = err.validation?.[0];
  if (!v) return undefined;
  let path = (v.instancePath ?? '').replace(/^\//, '').split('/').filter(Boolean)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  const params = v.params as { missingProperty?: string; additionalProperty?: string };
  const extra = params.missingProperty ?? params.additionalProperty;
  if (extra) path = path ? `${path}.${extra}` : extra;
  const ctx = err.validationContext;
  return path || ctx;
}

export async function buildServer(opts: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  await app.register(swagger, {
    openapi: {
      info: { title: opts.title ?? 'edgeflow API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.addHook('onRequest', async (req) => {
    if (!opts.token) return;
    const write = !['GET', 'HEAD', 'OPTIONS'].includes(req.method);
    const open = req.url === '/healthz' || req.url.startsWith('/docs');
    if ((write || (opts.readToken && !open)) && !tokenMatches(req.headers.authorization, opts.token)) {
      throw new ApiError('EF_ERR_UNAUTHORIZED', 'a valid "Authorization: Bearer <token>" header is required');
    }
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError) return reply.status(err.status).send(err.toBody());
    const fe = err as FastifyError;
    if (fe.validation) {
      const field = fieldOf(fe);
      return reply.status(400).send(new ApiError('EF_ERR_VALIDATION', `${field ? `${field}: ` : ''}${fe.validation[0]?.message ?? fe.message}`, field).toBody());
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send({ error: { code: 'EF_ERR_VALIDATION', message: fe.message } });
    }
    req.log.error({ err }, 'request failed');
    return reply.status(500).send(new ApiError('EF_ERR_INTERNAL', 'internal error').toBody());
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send(new ApiError('EF_ERR_NOT_FOUND', `no route ${req.method} ${req.url}`).toBody());
  });
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  return app;
}
