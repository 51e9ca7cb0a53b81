/**
 * The bucket boundaries, in seconds, the HTTP semantic conventions advise for
 * `http.server.request.duration`; the Prometheus collector uses them too, so
 * the two exports of one server can be read side by side.
 */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);
