export { DURATION_BUCKETS } from '../durationBuckets.js';
export {
  collectPrometheusMetrics,
  metricNames,
  type PrometheusCollector,
  type PrometheusCollectorOptions,
} from './prometheusCollector.js';
