export { DURATION_BUCKETS } from '../durationBuckets.js';
export { type HttpServerMetricsOptions, type RouteRequest } from './httpRequestSeries.js';
export { recordHttpServerMetrics, type HttpServerMetrics } from './httpServerMetrics.js';
export {
  createHttpServerMetricProducer,
  type HttpServerMetricData,
  type HttpServerMetricProducer,
  type HttpServerMetricsCollection,
} from './httpServerMetricProducer.js';
