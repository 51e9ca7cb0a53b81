/**
 * Renders the results three ways: a plain-text table for the terminal, a
 * markdown file to paste into a PR or README, and the raw JSON (every sample)
 * so that anyone can recompute the statistics.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import type { BenchConfig, ScenarioConfig } from './config.js';
import { SCENARIO_NAMES } from './config.js';
import type { CoreResult } from './coreEvents.js';
import { EXPORTER_MODE_DESCRIPTIONS, type ExporterCostResult } from './exporterCost.js';
import type { ImportCostResult } from './importCost.js';
import type { CpuSample } from './cpuPerRequest.js';
import type { GrowthResult, InFlightSample } from './memory.js';
import { H2_MODE_DESCRIPTIONS } from './h2Modes.js';
import { MODE_DESCRIPTIONS } from './modes.js';
import { HOLD_CHUNK_BYTES, HOLD_STATES, type HoldState } from './protocol.js';
import type { CpuSummary, MemorySummary, TargetResult } from './summary.js';
import { halfWidth, signed } from './summary.js';

export interface Environment {
  readonly node: string;
  /** The node the server children ran on (the CPU section's tables). */
  readonly serverNode: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly date: string;
  readonly command: string;
  readonly pinning: string;
  readonly loadAverageStart: readonly number[];
  readonly loadAverageEnd: readonly number[];
  readonly durationSeconds: number;
}

export interface Results {
  readonly environment: Environment;
  readonly config: BenchConfig;
  readonly cpu: {
    readonly summary: readonly CpuSummary[];
    readonly samples: readonly CpuSample[];
    readonly warnings: readonly string[];
    /** How many rounds the hello scenario got on the main node, and why it stopped there (absent in older results). */
    readonly helloRounds?: { readonly rounds: number; readonly stoppedBy: string };
    /** The hello scenario on the other Node majors (full run only). */
    readonly otherNodes: { readonly summary: readonly CpuSummary[]; readonly samples: readonly CpuSample[] };
  };
  readonly memory: { readonly summary: readonly MemorySummary[]; readonly samples: readonly InFlightSample[] };
  readonly growth: GrowthResult;
  /** The same load on a bare server. */
  readonly growthControl: GrowthResult;
  readonly core: CoreResult;
  readonly importCost: ImportCostResult;
  readonly exporterCost: ExporterCostResult;
  readonly targets: readonly TargetResult[];
}

export type Table = { title: string; head: string[]; rows: string[][]; align?: ('l' | 'r')[] };

/** One table per scenario and server node: µs per request, the paired ratio and Δ against bare, GC and load cost. */
function cpuTables(summary: readonly CpuSummary[], c: BenchConfig): Table[] {
  const out: Table[] = [];
  for (const node of new Set(summary.map((s) => s.node))) {
    for (const scenario of SCENARIO_NAMES) {
      const rows = summary.filter((s) => s.node === node && s.scenario === scenario);
      if (rows.length === 0) continue;
      const sc = c.scenarios[scenario];
      const load = sc.http2
        ? `${c.http2Load.connections} h2c sessions × ${c.http2Load.streams} streams, ${sc.http2} API`
        : `${c.http1Load.connections} keep-alive connections${c.http1Load.pipeline > 1 ? ` × ${c.http1Load.pipeline} pipelined` : ''}`;
      out.push({
        title: `Server CPU per request — ${scenario}, node ${node}: ${sc.requests.toLocaleString('en-US')} requests per mode and round in ${sc.slices} slices (one server loaded at a time, alone on its core; a round's Δ is the median over slices of the mode's window − bare's; over rounds, their 20% trimmed mean) after ${warmUpText(sc)}${sc.abortEvery ? `, 1 in ${sc.abortEvery} aborting mid-body` : ''}, ${roundsText(rows)}, ${load}`,
        head: ['mode', 'µs/req (median)', 'GC µs/req (GCs/1k req)', 'load µs/req', 'ratio to bare: trimmed mean (min–max)', 'ratio 95% CI', 'Δ µs vs bare: trimmed mean [95% CI]', '±'],
        align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
        rows: rows.map((s) => [
          s.mode,
          s.medianUs.toFixed(2),
          `${s.gcUs.toFixed(2)} (${s.gcPer1k.toFixed(1)})`,
          s.loadUs.toFixed(2),
          s.ratio ? `${s.ratio.center.toFixed(3)} (${s.ratio.min.toFixed(2)}–${s.ratio.max.toFixed(2)})` : 'baseline',
          s.ratio ? `${s.ratio.ci.low.toFixed(3)}–${s.ratio.ci.high.toFixed(3)}` : '',
          s.diffUs ? `${signed(s.diffUs.center)} [${signed(s.diffUs.ci.low)}, ${signed(s.diffUs.ci.high)}]` : '',
          s.diffUs ? halfWidth(s.diffUs.ci).toFixed(2) : '',
        ]),
      });
    }
  }
  return out;
}

/** The warm-up every child gets before its measured windows (cpuPerRequest.ts `warmUp`). */
function warmUpText(sc: ScenarioConfig): string {
  const n = (chunks: number) => (chunks * sc.warmup).toLocaleString('en-US');
  return sc.warmupMaxChunks <= 2 ? `a warm-up of ${n(sc.warmupMaxChunks)} requests` : `a warm-up until stable (${n(2)} to ${n(sc.warmupMaxChunks)} requests)`;
}

/** "N rounds", and which modes had fewer paired with bare (results from before every round ran every mode). */
function roundsText(rows: readonly CpuSummary[]): string {
  const most = Math.max(...rows.map((s) => s.rounds));
  const fewer = rows.filter((s) => s.rounds < most);
  return `${most} rounds` + (fewer.length === 0 ? '' : ` (fewer paired rounds: ${fewer.map((s) => `${s.mode} ${s.rounds}`).join(', ')})`);
}

function tables(r: Results): Table[] {
  const c = r.config;
  const out: Table[] = [...cpuTables(r.cpu.summary, c), ...cpuTables(r.cpu.otherNodes.summary, c)];
  out.push(memoryTable(r));
  const g = r.growth;
  const b = r.growthControl;
  const kib = (bytes: number) => (bytes / 1024).toFixed(0);
  out.push({
    title: `No heap growth — ${g.mode} vs a bare control, ${g.requests.toLocaleString('en-US')} requests each, ${g.abortedPerCent}% aborting mid-body, gc ×2 before each reading`,
    head: ['after requests', `${g.mode} heapUsed KiB`, 'Δ KiB', 'bare heapUsed KiB', 'Δ KiB'],
    align: ['r', 'r', 'r', 'r', 'r'],
    rows: [
      ['warm-up', kib(g.heapAfterWarmup), '', kib(b.heapAfterWarmup), ''],
      ...g.checkpoints.map((p, i) => {
        const q = b.checkpoints[i];
        return [
          p.requests.toLocaleString('en-US'),
          kib(p.heapUsed),
          signed((p.heapUsed - g.heapAfterWarmup) / 1024, 1),
          q ? kib(q.heapUsed) : '',
          q ? signed((q.heapUsed - b.heapAfterWarmup) / 1024, 1) : '',
        ];
      }),
    ],
  });
  out.push({
    title: `Core events (packages/core/bench/core.bench.ts, ${r.core.rounds} rounds; registry alone: ${r.core.registryHeap.journalOff} B/entry journal off, ${r.core.registryHeap.journal8} B journal 8)`,
    head: ['path', 'ns/event', 'events/s', 'compiled is faster by'],
    align: ['l', 'r', 'r', 'r'],
    rows: r.core.rows.map((row) => [row.mode, row.nsPerEvent.toFixed(1), Math.round(row.eventsPerSecond).toLocaleString('en-US'), `${row.compiledIsFasterBy.toFixed(1)}×`]),
  });
  out.push(importCostTable(r.importCost));
  out.push(exporterCostTable(r.exporterCost));
  out.push({
    title: 'Targets',
    head: ['target', 'wanted', 'measured', 'verdict'],
    align: ['l', 'l', 'l', 'l'],
    rows: r.targets.map((t) => [t.name, t.target, t.measured, (t.met ? 'met' : 'NOT met') + (t.note ? ` (${t.note})` : '')]),
  });
  return out;
}

/** One row per mode, one column pair per hold state: what tracking adds (mode − bare) and the whole heap per held request. */
function memoryTable(r: Results): Table {
  const c = r.config;
  const summary = r.memory.summary;
  const cell = (mode: string, state: HoldState) => summary.find((m) => m.mode === mode && m.state === state);
  return {
    title:
      `Heap per in-flight connection — ${summary[0]?.connections.toLocaleString('en-US')} held requests, ${c.memory.rounds} round(s), gc ×2 before each reading; ` +
      `unanswered: nothing written yet; streaming: headers and a first ${HOLD_CHUNK_BYTES.toLocaleString('en-US')} B chunk sent`,
    head: ['mode', ...HOLD_STATES.map((state) => `${state}: mode − bare B/conn`), ...HOLD_STATES.map((state) => `${state}: total B/held request`)],
    align: ['l', ...HOLD_STATES.map(() => 'r' as const), ...HOLD_STATES.map(() => 'r' as const)],
    rows: c.memory.modes.map((mode) => [
      mode,
      ...HOLD_STATES.map((state) => {
        const bytes = cell(mode, state)?.trackingBytesPerConnection;
        return bytes === undefined ? 'baseline' : bytes.toFixed(0);
      }),
      ...HOLD_STATES.map((state) => cell(mode, state)?.totalBytesPerConnection.toFixed(0) ?? ''),
    ]),
  };
}

function importCostTable(r: ImportCostResult): Table {
  return {
    title: `Import cost — await import('<module>') by bare name (Lifeline: the ${r.measured}), a fresh node ${r.node} process per sample, ${r.rounds} interleaved rounds (ms)`,
    head: ['module', 'wall median (min–max)', 'CPU median', 'Δ wall vs node:http: median [95% CI]', 'Δ CPU: median [95% CI]'],
    align: ['l', 'r', 'r', 'r', 'r'],
    rows: r.summary.map((s) => [
      s.target,
      `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`,
      s.medianCpu.toFixed(1),
      s.diff ? `${signed(s.diff.median, 1)} [${signed(s.diff.ci.low, 1)}, ${signed(s.diff.ci.high, 1)}]` : 'baseline',
      s.diffCpu ? `${signed(s.diffCpu.median, 1)} [${signed(s.diffCpu.ci.low, 1)}, ${signed(s.diffCpu.ci.high, 1)}]` : '',
    ]),
  };
}

const GC_NOTE = 'GC µs/req: main-thread GC pauses (perf_hooks gc entries, wall time: inflated when other processes take the core; the count is not), part of µs/req. load µs/req: the load child\'s own CPU, on the other core; ± is the Δ interval\'s half-width.';

/** The CPU section alone (`--only cpu`): its tables, the resolution and HTTP/2 verdicts. */
export function renderCpuOnly(summary: readonly CpuSummary[], other: readonly CpuSummary[], targets: readonly TargetResult[], c: BenchConfig): string {
  const lines = [''];
  for (const t of [...cpuTables(summary, c), ...cpuTables(other, c)]) lines.push(...renderTable(t));
  lines.push(GC_NOTE, '');
  for (const t of targets) lines.push(`${t.name}: wanted ${t.target}; measured ${t.measured} — ${t.met ? 'met' : 'NOT met'}${t.note ? ` (${t.note})` : ''}`);
  return lines.join('\n') + '\n';
}

function exporterCostTable(r: ExporterCostResult): Table {
  return {
    title: `Exporter cost per request, in process (exporterCost.ts) — ${r.config.requests.toLocaleString('en-US')} requests after ${r.config.warmup.toLocaleString('en-US')} warm-up, a fresh process per sample, ${r.config.rounds} paired rounds, CPU time`,
    head: ['mode', 'ns/req (median)', 'Δ ns vs none: median [95% CI]', 'ratio to none [95% CI]', 'what'],
    align: ['l', 'r', 'r', 'r', 'l'],
    rows: r.rows.map((row) => [
      row.mode,
      row.nsPerRequest.toFixed(0),
      row.diffNs ? `${signed(row.diffNs.median, 0)} [${signed(row.diffNs.ci.low, 0)}, ${signed(row.diffNs.ci.high, 0)}]` : 'baseline',
      row.ratio ? `${row.ratio.median.toFixed(2)} [${row.ratio.ci.low.toFixed(2)}, ${row.ratio.ci.high.toFixed(2)}]` : '',
      EXPORTER_MODE_DESCRIPTIONS[row.mode],
    ]),
  };
}

/** The exporter cost section alone, as text (`bench:exporters`). */
export function renderExporterCost(r: ExporterCostResult): string {
  return renderTable(exporterCostTable(r)).join('\n');
}

/** A table as aligned plain-text lines, its title first and a blank line last. */
export function renderTable(t: Table): string[] {
  const widths = t.head.map((h, i) => Math.max(h.length, ...t.rows.map((row) => (row[i] ?? '').length)));
  const cell = (s: string, i: number) => (t.align?.[i] === 'r' ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  return [t.title, t.head.map(cell).join('  '), widths.map((w) => '─'.repeat(w)).join('  '), ...t.rows.map((row) => row.map(cell).join('  ').trimEnd()), ''];
}

/** The import cost section alone, as text (`bench:import`). */
export function renderImportCost(r: ImportCostResult): string {
  return renderTable(importCostTable(r)).join('\n');
}

function environmentLines(e: Environment): string[] {
  return [
    `node ${e.node} (servers: ${e.serverNode}) · ${e.cpuModel} × ${e.cores} · ${e.date}`,
    `command: ${e.command} · ${e.durationSeconds.toFixed(0)} s`,
    `pinning: ${e.pinning}`,
    `load average (1/5/15 min) at start ${e.loadAverageStart.map((x) => x.toFixed(2)).join('/')}, at end ${e.loadAverageEnd.map((x) => x.toFixed(2)).join('/')}`,
  ];
}

export function renderText(r: Results): string {
  const lines = ['', 'Lifeline bench', ...environmentLines(r.environment), ''];
  for (const t of tables(r)) lines.push(...renderTable(t));
  lines.push(GC_NOTE, '', 'modes:', ...Object.entries(MODE_DESCRIPTIONS).map(([m, d]) => `  ${m}: ${d}`));
  lines.push('HTTP/2 modes (h2core, h2compat):', ...Object.entries(H2_MODE_DESCRIPTIONS).map(([m, d]) => `  ${m}: ${d}`));
  for (const w of r.cpu.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n') + '\n';
}

export function renderMarkdown(r: Results): string {
  const e = r.environment;
  const lines = [
    '# Lifeline bench results',
    '',
    `- node: ${e.node} (server children: ${e.serverNode})`,
    `- CPU: ${e.cpuModel} × ${e.cores}`,
    `- date: ${e.date}`,
    `- command: \`${e.command}\` (${e.durationSeconds.toFixed(0)} s)`,
    `- pinning: ${e.pinning}`,
    `- load average at start ${e.loadAverageStart.map((x) => x.toFixed(2)).join('/')}, at end ${e.loadAverageEnd.map((x) => x.toFixed(2)).join('/')}`,
    '',
  ];
  const esc = (s: string) => s.replaceAll('|', '\\|');
  for (const t of tables(r)) lines.push(...renderMarkdownTable(t));
  lines.push(GC_NOTE, '', '## Modes', '', ...Object.entries(MODE_DESCRIPTIONS).map(([m, d]) => `- \`${m}\`: ${esc(d)}`), '');
  lines.push('## HTTP/2 modes (h2core, h2compat)', '', ...Object.entries(H2_MODE_DESCRIPTIONS).map(([m, d]) => `- \`${m}\`: ${esc(d)}`), '');
  return lines.join('\n');
}

/** A table as markdown lines: a `##` title, the table, a blank line. */
export function renderMarkdownTable(t: Table): string[] {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const lines = [`## ${t.title}`, '', `| ${t.head.map(esc).join(' | ')} |`, `| ${t.head.map((_, i) => (t.align?.[i] === 'r' ? '---:' : '---')).join(' | ')} |`];
  for (const row of t.rows) lines.push(`| ${row.map(esc).join(' | ')} |`);
  lines.push('');
  return lines;
}

export async function writeResults(r: Results, dir: URL): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(new URL('results.json', dir), JSON.stringify(r, null, 2) + '\n');
  await writeFile(new URL('results.md', dir), renderMarkdown(r));
}
