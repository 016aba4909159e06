import type { RouteModule } from '../edge-app';
import { datadogRoutes } from './datadog.route';
import { deployRoutes } from './deploy.route';
import { githubRoutes } from './github.route';
import { healthRoutes, readinessRoutes } from './health.route';
import { metricsRoutes } from './metrics.route';
import { otlpLogsRoutes } from './otlp-logs.route';
import { slackRoutes } from './slack.route';

/**
 * Every route module of the HTTP edge, one per source. A new endpoint (deploy notifications, log
 * ingest) is a module here: it gets the app, typed for zod schemas, and the edge's dependencies.
 */
export const ROUTE_MODULES: readonly RouteModule[] = [datadogRoutes, deployRoutes, slackRoutes, githubRoutes, otlpLogsRoutes, healthRoutes, readinessRoutes, metricsRoutes];
