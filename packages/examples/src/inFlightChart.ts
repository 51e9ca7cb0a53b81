import type { InFlightSample } from './inFlightSampler.js';

/** One line of the chart. */
export interface ChartSeries<K extends string> {
  /** Which count of the samples this line draws. */
  readonly key: K;
  readonly label: string;
  /** Any SVG color, e.g. `#c0392b`. */
  readonly color: string;
}

/** What to draw. */
export interface InFlightChartInput<K extends string> {
  readonly title: string;
  /** A second line under the title, e.g. the load that produced the samples. */
  readonly subtitle?: string;
  readonly samples: readonly InFlightSample<K>[];
  readonly series: readonly ChartSeries<K>[];
}

const WIDTH = 900;
const HEIGHT = 460;
const PLOT = { left: 70, right: 190, top: 70, bottom: 50 } as const;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A "nice" step (1, 2 or 5 times a power of ten) that cuts `max` into about `parts` pieces. */
function niceStep(max: number, parts: number): number {
  const raw = max / parts;
  const power = 10 ** Math.floor(Math.log10(raw));
  const factor = [1, 2, 5, 10].find((f) => f * power >= raw) ?? 10;
  return factor * power;
}

/** Tick values from 0 up to the first one at or above `max`, so the data never runs past the axis. */
function ticks(max: number, parts: number): number[] {
  const step = niceStep(max, parts);
  const count = Math.max(1, Math.ceil(max / step - 1e-9));
  return Array.from({ length: count + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

/**
 * Renders in-flight counts over time as a standalone SVG document: no
 * scripts, fonts, stylesheets or images to fetch, so the file opens the same
 * in a browser offline, in a CI artifact viewer or attached to an issue.
 * Each line ends in a label with its last value, the number a reader wants.
 */
export function renderInFlightChart<K extends string>(input: InFlightChartInput<K>): string {
  const { samples, series } = input;
  const lastMs = samples.at(-1)?.atMs ?? 0;
  const peak = Math.max(1, ...samples.flatMap((s) => series.map((line) => s.counts[line.key])));
  const xTicks = ticks(Math.max(lastMs / 1000, 0.001), 8);
  const yTicks = ticks(peak, 5);
  const xMax = xTicks.at(-1)!;
  const yMax = yTicks.at(-1)!;
  const plotWidth = WIDTH - PLOT.left - PLOT.right;
  const plotHeight = HEIGHT - PLOT.top - PLOT.bottom;
  const x = (seconds: number) => PLOT.left + (seconds / xMax) * plotWidth;
  const y = (count: number) => PLOT.top + plotHeight - (count / yMax) * plotHeight;
  const fmt = (n: number) => n.toFixed(1);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(input.title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${PLOT.left}" y="28" font-size="17" font-weight="bold" fill="#222">${escapeXml(input.title)}</text>`,
  ];
  if (input.subtitle !== undefined) {
    parts.push(`<text x="${PLOT.left}" y="48" fill="#555">${escapeXml(input.subtitle)}</text>`);
  }
  for (const v of yTicks) {
    parts.push(
      `<line x1="${PLOT.left}" x2="${PLOT.left + plotWidth}" y1="${fmt(y(v))}" y2="${fmt(y(v))}" stroke="#e3e3e3"/>`,
      `<text x="${PLOT.left - 8}" y="${fmt(y(v) + 4)}" text-anchor="end" fill="#555">${v}</text>`,
    );
  }
  for (const v of xTicks) {
    parts.push(
      `<line x1="${fmt(x(v))}" x2="${fmt(x(v))}" y1="${PLOT.top + plotHeight}" y2="${PLOT.top + plotHeight + 5}" stroke="#888"/>`,
      `<text x="${fmt(x(v))}" y="${PLOT.top + plotHeight + 19}" text-anchor="middle" fill="#555">${v}s</text>`,
    );
  }
  parts.push(
    `<line x1="${PLOT.left}" x2="${PLOT.left}" y1="${PLOT.top}" y2="${PLOT.top + plotHeight}" stroke="#888"/>`,
    `<line x1="${PLOT.left}" x2="${PLOT.left + plotWidth}" y1="${PLOT.top + plotHeight}" y2="${PLOT.top + plotHeight}" stroke="#888"/>`,
    `<text x="${PLOT.left + plotWidth / 2}" y="${HEIGHT - 10}" text-anchor="middle" fill="#333">time since the load started</text>`,
    `<text transform="translate(18 ${PLOT.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" fill="#333">in-flight entries</text>`,
  );
  for (const line of series) {
    const points = samples.map((s) => `${fmt(x(s.atMs / 1000))},${fmt(y(s.counts[line.key]))}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${line.color}" stroke-width="2" stroke-linejoin="round" points="${points}"/>`);
  }
  // End labels, in the margin at the right, nudged apart when the last values are close.
  const ends = series
    .map((line) => ({ line, last: samples.at(-1)?.counts[line.key] ?? 0 }))
    .sort((a, b) => b.last - a.last);
  let previousY = -Infinity;
  for (const { line, last } of ends) {
    const labelY = Math.max(y(last) + 4, previousY + 16);
    previousY = labelY;
    parts.push(`<text x="${PLOT.left + plotWidth + 8}" y="${fmt(labelY)}" fill="${line.color}" font-weight="bold">${escapeXml(`${line.label}: ${last}`)}</text>`);
  }
  parts.push('</svg>', '');
  return parts.join('\n');
}
