import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { methodNotAllowed, parseBodiesKeepingRaw, type ApiServerDeps, type EdgeApp, type EdgeContext } from './edge-app';
import { edgeErrorHandler, reject } from './http-errors';
import { observeRequests } from './observed-requests';
import { ROUTE_MODULES } from './routes';
import { DeliveryIntake } from '../use-cases/accept-delivery.use-case';

export type { ApiServerDeps, EdgeApp } from './edge-app';

/**
 * The HTTP edge of Steward. It authenticates and validates what arrives, then hands it to Temporal
 * through use-cases/ by starting, signalling or querying workflows; everything else happens in the
 * workflow. Each source has its route module (api/routes/); this builds the app they share.
 */

const DEFAULT_TEMPORAL_TIMEOUT_MS = 5_000;
/** Bounds slow or stalled uploads; no legitimate webhook takes this long. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The app, routes registered; `listen` it, or hand its `server` to a test. */
export function createApiServer(deps: ApiServerDeps): EdgeApp {
  const log = deps.logger ?? ((line: string) => console.log(line));
  const intake = deps.intake ?? new DeliveryIntake({ client: deps.client, inbox: null, log });
  const context: EdgeContext = { deps, intake, log, temporalTimeoutMs: deps.temporalTimeoutMs ?? DEFAULT_TEMPORAL_TIMEOUT_MS };
  const requestTimeout = deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const app = Fastify({
    logger: false,
    bodyLimit: deps.maxBodyBytes,
    requestTimeout,
    // Node checks for timed-out requests every 30 s by default, so a stalled client could hold its
    // connection for twice the timeout; checking four times per timeout drops it soon after.
    http: { connectionsCheckingInterval: Math.max(100, Math.floor(requestTimeout / 4)) },
  }).withTypeProvider<ZodTypeProvider>();
  // Node 20 judges a request whose body stalls by headersTimeout (60 s), not requestTimeout: held to
  // the request timeout, a stalled upload is answered 408 within it (api/edge-fuzz.test.ts stalls one).
  app.server.headersTimeout = Math.min(app.server.headersTimeout, requestTimeout);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(edgeErrorHandler({ maxBodyBytes: deps.maxBodyBytes, log }));
  app.setNotFoundHandler(async (request) => {
    throw reject(404, `no route for ${new URL(request.url, 'http://localhost').pathname}`);
  });
  parseBodiesKeepingRaw(app, deps.maxBodyBytes);
  observeRequests(app, deps.metrics?.port ?? null);
  deps.metrics?.port.watchInboxDepth(() => intake.inboxDepth());

  const methods = methodNotAllowed(app);
  for (const registerRoutes of ROUTE_MODULES) registerRoutes(app, context);
  methods.answerOtherMethods();
  return app;
}
