import { describe, expect, it } from 'vitest';
import { EXPORTER_MODES, sampleInProcess } from '../src/exporterCost.js';

describe('the in-process exporter cost sample', () => {
  it('runs every mode to an empty registry and gives a finite, positive CPU cost per request', () => {
    // sampleInProcess throws if a request is left open or if another subscriber listens on the channels.
    const costs = EXPORTER_MODES.map((mode) => sampleInProcess(mode, 100, 2_000));
    for (const ns of costs) {
      expect(Number.isFinite(ns)).toBe(true);
      expect(ns).toBeGreaterThan(0);
    }
  });
});
