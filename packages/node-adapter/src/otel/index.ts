export { DURATION_BUCKETS } from '../durationBuckets.js';
export {
  recordHttpServerMetrics,
  type HttpServerMetrics,
  type HttpServerMetricsOptions,
  type RouteRequest,
} from './httpServerMetrics.js';
