import { MetricReader } from '@opentelemetry/sdk-metrics';

/** A reader that is never collected: the benchmarks measure what recording costs a request, not an export. */
export class IdleReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}
