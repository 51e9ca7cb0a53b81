/**
 * The instruction count section's report: one table per scenario, the
 * targets, as text for the terminal and markdown, and the raw samples as JSON
 * (bench-results/instructions.{json,md}).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import type { InstructionsConfig } from './instructions.js';
import { IR_SCENARIO_LOADS, IR_SCENARIOS, signedIr, type IrSample, type IrSummary } from './instructionSummary.js';
import { H2_MODE_DESCRIPTIONS } from './h2Modes.js';
import { MODE_DESCRIPTIONS } from './modes.js';
import { renderMarkdownTable, renderTable, type Environment, type Table } from './report.js';
import type { TargetResult } from './summary.js';

export interface InstructionsResults {
  /** The CPU section's environment fields, with valgrind's version in place of the core pinning. */
  readonly environment: Omit<Environment, 'pinning'> & { readonly valgrind: string };
  readonly config: InstructionsConfig;
  readonly summary: readonly IrSummary[];
  readonly samples: readonly IrSample[];
  readonly targets: readonly TargetResult[];
  readonly warnings: readonly string[];
}

const count = (x: number) => Math.round(x).toLocaleString('en-US');
const estimate = (d: { median: number; ci: { low: number; high: number } } | undefined) =>
  d === undefined ? '' : `${signedIr(d.median)} [${signedIr(d.ci.low)}, ${signedIr(d.ci.high)}]`;

function tables(r: InstructionsResults): Table[] {
  const out: Table[] = [];
  for (const scenario of IR_SCENARIOS) {
    const rows = r.summary.filter((s) => s.scenario === scenario);
    if (rows.length === 0) continue;
    const sc = r.config.scenarios[scenario];
    const { unit, load } = IR_SCENARIO_LOADS[scenario];
    out.push({
      title:
        `Instructions per ${unit} — ${scenario}, node ${r.environment.serverNode} under callgrind: ${sc.windows} windows × ${sc.requests.toLocaleString('en-US')} ${unit}s per process ` +
        `after ${sc.warmup.toLocaleString('en-US')} warm-up and settle windows, ${rows[0]!.rounds} rounds (a fresh process per mode and round), ${load}`,
      head: ['mode', 'Ir/req, all threads (median)', 'main thread', 'GCs/1k req', 'Δ Ir vs bare: median [95% CI]', 'Δ % of bare', '±', 'main-thread Δ [95% CI]', 'main-thread Δ, lowest window [95% CI]'],
      align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows: rows.map((s) => [
        s.mode,
        count(s.total),
        count(s.main),
        s.gcPer1k.toFixed(1),
        s.diff ? estimate(s.diff) : 'baseline',
        s.diffPercent === undefined ? '' : `${s.diffPercent >= 0 ? '+' : '−'}${Math.abs(s.diffPercent).toFixed(2)}%`,
        s.diff ? count((s.diff.ci.high - s.diff.ci.low) / 2) : '',
        estimate(s.mainDiff),
        estimate(s.lowestMainDiff),
      ]),
    });
  }
  out.push({
    title: 'Targets (instructions)',
    head: ['target', 'wanted', 'measured', 'verdict'],
    align: ['l', 'l', 'l', 'l'],
    rows: r.targets.map((t) => [t.name, t.target, t.measured, (t.met ? 'met' : 'NOT met') + (t.note ? ` (${t.note})` : '')]),
  });
  return out;
}

const NOTE =
  'Ir: instructions executed, counted by valgrind callgrind across the window (zero, load, every response finished, read the counters); ' +
  "all threads = main thread + V8's GC and compiler helpers + libuv's. A process's figure is the median of its windows (the lowest-window column: its lowest " +
  "main-thread window, which no major GC reached); Δ is per round against the bare process of the same round. A target is met only when its whole 95% interval is on the right side of the bound.";

function modeLines(r: InstructionsResults, bullet: (mode: string, what: string) => string): string[] {
  // Only the scenarios measured; the HTTP/1 ones share the CPU section's mode descriptions, the HTTP/2 ones theirs.
  const measured = IR_SCENARIOS.filter((scenario) => r.summary.some((s) => s.scenario === scenario));
  return measured.flatMap((scenario) =>
    r.config.scenarios[scenario].modes.map((m) =>
      bullet(m, `${scenario}: ${scenario.startsWith('h2') ? H2_MODE_DESCRIPTIONS[m as keyof typeof H2_MODE_DESCRIPTIONS] : MODE_DESCRIPTIONS[m]}`),
    ),
  );
}

function environmentLines(r: InstructionsResults): string[] {
  const e = r.environment;
  return [
    `node ${e.node} (servers: ${e.serverNode} under ${e.valgrind}) · ${e.cpuModel} × ${e.cores} · ${e.date}`,
    `command: ${e.command} · ${e.durationSeconds.toFixed(0)} s`,
    `load average (1/5/15 min) at start ${e.loadAverageStart.map((x) => x.toFixed(2)).join('/')}, at end ${e.loadAverageEnd.map((x) => x.toFixed(2)).join('/')}`,
  ];
}

export function renderInstructionsText(r: InstructionsResults): string {
  const lines = ['', 'Lifeline bench: instructions per request', ...environmentLines(r), ''];
  for (const t of tables(r)) lines.push(...renderTable(t));
  lines.push(NOTE, '', 'modes:', ...modeLines(r, (m, d) => `  ${m} (${d})`));
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n') + '\n';
}

export function renderInstructionsMarkdown(r: InstructionsResults): string {
  const lines = ['# Lifeline bench: instructions per request', '', ...environmentLines(r).map((l) => `- ${l}`), ''];
  for (const t of tables(r)) lines.push(...renderMarkdownTable(t));
  lines.push(NOTE, '', '## Modes', '', ...modeLines(r, (m, d) => `- \`${m}\` (${d.replaceAll('|', '\\|')})`), '');
  for (const w of r.warnings) lines.push(`- warning: ${w}`);
  return lines.join('\n') + '\n';
}

export async function writeInstructionsResults(r: InstructionsResults, dir: URL): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(new URL('instructions.json', dir), JSON.stringify(r, null, 2) + '\n');
  await writeFile(new URL('instructions.md', dir), renderInstructionsMarkdown(r));
}
