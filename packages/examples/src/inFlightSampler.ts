/** The in-flight counts of every watched server at one moment. */
export interface InFlightSample<K extends string> {
  /** Milliseconds since sampling started. */
  readonly atMs: number;
  readonly counts: Readonly<Record<K, number>>;
}

/** A sampler that is running. */
export interface InFlightSampler<K extends string> {
  /** Takes a sample now, besides the periodic ones (e.g. the final state) and returns it. */
  sampleNow(): InFlightSample<K>;
  /** Stops the timer and returns every sample, oldest first. */
  stop(): InFlightSample<K>[];
}

/**
 * Samples each source's in-flight count every `everyMs` on one shared clock,
 * so the series of several servers line up on the same time axis. The timer
 * is unref'd: a forgotten sampler never keeps the process alive.
 */
export function sampleInFlight<K extends string>(sources: Readonly<Record<K, () => number>>, everyMs: number): InFlightSampler<K> {
  const startedAt = performance.now();
  const samples: InFlightSample<K>[] = [];
  const keys = Object.keys(sources) as K[];
  const sampleNow = (): InFlightSample<K> => {
    const counts = {} as Record<K, number>;
    for (const key of keys) counts[key] = sources[key]();
    const sample = { atMs: performance.now() - startedAt, counts };
    samples.push(sample);
    return sample;
  };
  sampleNow();
  const timer = setInterval(sampleNow, everyMs);
  timer.unref();
  return {
    sampleNow,
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}
