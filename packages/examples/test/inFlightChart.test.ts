import { describe, expect, it } from 'vitest';
import { renderInFlightChart } from '../src/inFlightChart.js';

describe('renderInFlightChart', () => {
  const samples = [
    { atMs: 0, counts: { naive: 0, lifeline: 0 } },
    { atMs: 500, counts: { naive: 30, lifeline: 20 } },
    { atMs: 1_200, counts: { naive: 57, lifeline: 0 } },
  ];
  const svg = renderInFlightChart({
    title: 'entries <over> time & more',
    samples,
    series: [
      { key: 'naive', label: 'naive', color: '#c00' },
      { key: 'lifeline', label: 'Lifeline', color: '#0a0' },
    ],
  });

  it('is a standalone SVG document that fetches nothing', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).not.toMatch(/<script|<image|<link|@import|href=/);
  });

  it('draws one line per series through every sample, labelled with its last value', () => {
    const lines = [...svg.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map((m) => m[1]!.split(' '));
    expect(lines).toHaveLength(2);
    expect(lines.every((points) => points.length === samples.length)).toBe(true);
    expect(svg).toContain('>naive: 57</text>');
    expect(svg).toContain('>Lifeline: 0</text>');
  });

  it('extends both axes to at least the last time and the peak count, so no line runs past them', () => {
    const xTicks = [...svg.matchAll(/>([\d.]+)s<\/text>/g)].map((m) => Number(m[1]));
    const yTicks = [...svg.matchAll(/text-anchor="end"[^>]*>(\d+)<\/text>/g)].map((m) => Number(m[1]));
    expect(Math.max(...xTicks)).toBeGreaterThanOrEqual(1.2);
    expect(Math.max(...yTicks)).toBeGreaterThanOrEqual(57);
  });

  it('escapes text', () => {
    expect(svg).toContain('entries &#60;over&#62; time &#38; more');
    expect(svg).not.toContain('<over>');
  });
});
