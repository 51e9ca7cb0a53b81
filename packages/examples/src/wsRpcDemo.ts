/**
 * `pnpm example:ws-rpc`: a WebSocket RPC server (ws 8) on `@lifeline/core` alone.
 * Each socket and each call is a connection in one registry. Clients start calls
 * that answer, throw, or stream until they end, then leave cleanly, cut their
 * socket, or stay until the server shuts down under them. It prints how the
 * registry ended the calls and whether each ended as its client's behaviour implies.
 */
import { runIfEntryPoint } from './entryPoint.js';
import {
  expectedCallEnding,
  expectedSocketEnding,
  runRpcScenario,
  type CallKind,
  type ClientEnding,
  type ClientPlan,
  type Ending,
  type ScenarioReport,
} from './wsRpc/rpcScenario.js';

const KINDS: readonly CallKind[] = ['answers', 'throws', 'streams-forever'];
const ENDINGS: readonly ClientEnding[] = ['closes-cleanly', 'terminates', 'stays-until-shutdown'];

/** `clients` clients, their endings in turn, each with one call of every kind. */
export function demoPlans(clients: number): ClientPlan[] {
  return Array.from({ length: clients }, (_, i) => ({
    ending: ENDINGS[i % ENDINGS.length]!,
    calls: KINDS.map((kind, k) => ({ kind, steps: (i + k) % 4 })),
  }));
}

const sameEnding = (a: Ending | undefined, b: Ending) => a?.outcome === b.outcome && a.reason === b.reason && a.closeCode === b.closeCode;

/** The calls and sockets whose ending differs from what their client's behaviour implies, or that were not released exactly once. */
export function mismatches(report: ScenarioReport): string[] {
  return [
    ...report.calls
      .filter((c) => c.releases !== 1 || !sameEnding(c.released, expectedCallEnding(c.kind, c.ending)))
      .map((c) => `call ${c.call} (${c.kind}, client ${c.ending}): released ${c.releases}x as ${JSON.stringify(c.released)}`),
    ...report.sockets
      .filter((s) => s.releases !== 1 || !sameEnding(s.released, expectedSocketEnding(s.ending)))
      .map((s) => `socket of client ${s.client} (${s.ending}): released ${s.releases}x as ${JSON.stringify(s.released)}`),
  ];
}

/** `outcome/reason N` per ending, with the close code a socket's ending carried. */
function countEndings(endings: readonly (Ending | undefined)[]): string {
  const counts = new Map<string, number>();
  for (const ending of endings) {
    const key =
      ending === undefined
        ? 'never released'
        : `${ending.reason === 'none' ? ending.outcome : `${ending.outcome}/${ending.reason}`}${ending.closeCode === undefined ? '' : ` (code ${ending.closeCode})`}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort().map(([key, n]) => `${key} ${n}`).join(', ');
}

/** One line: how the calls and sockets ended, by outcome and reason, and whether that is right. */
export function verdict(report: ScenarioReport): string {
  const wrong = mismatches(report);
  const ok = wrong.length === 0 && report.registrySize === 0 && report.lateEvents === 0;
  return (
    `verdict: ${report.calls.length} calls over ${report.sockets.length} sockets; ` +
    `calls: ${countEndings(report.calls.map((c) => c.released))}; sockets: ${countEndings(report.sockets.map((s) => s.released))}; ` +
    `registry ${report.registrySize === 0 ? 'returned to 0' : `left ${report.registrySize} in flight`}; ` +
    (ok ? 'every call and socket ended as its client implies' : `${wrong.length} ended otherwise`)
  );
}

runIfEntryPoint(import.meta.url, async () => {
  const report = await runRpcScenario(demoPlans(12));
  for (const line of mismatches(report)) console.log(line);
  console.log(verdict(report));
  if (mismatches(report).length > 0 || report.registrySize !== 0) process.exitCode = 1;
});
