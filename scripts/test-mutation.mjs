#!/usr/bin/env node
// pnpm test:mutation — Stryker on the core and on the adapter's transport code.
//
// Each package's stryker.config.mjs says what it mutates; the shared settings are in
// scripts/strykerConfig.mjs. Runs are incremental (reports/mutation/<package>/incremental.json):
// a rerun tests only the mutants whose code or covering tests changed. Delete
// reports/mutation to start afresh. Not part of .ci/run: a full run takes tens of minutes.
//
// Usage:
//   node scripts/test-mutation.mjs                      both packages
//   node scripts/test-mutation.mjs --only node-adapter  one package (core or node-adapter)
//   node scripts/test-mutation.mjs --only core -- --mutate packages/core/src/journal.ts
//                                                       extra arguments for stryker run
//
// Prints one "<package>: mutation score N% (...)" line per package last; the HTML and JSON
// reports are in reports/mutation/<package>/. Exits 1 when a Stryker run failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packages = ['core', 'node-adapter'];

function parseArgs(argv) {
  const dash = argv.indexOf('--');
  const own = dash === -1 ? argv : argv.slice(0, dash);
  const options = { only: packages, strykerArgs: dash === -1 ? [] : argv.slice(dash + 1) };
  for (let i = 0; i < own.length; i++) {
    if (own[i] === '--only') options.only = (own[++i] ?? '').split(',').filter(Boolean);
    else throw new Error(`test:mutation: unknown argument "${own[i]}" (see the usage at the top of scripts/test-mutation.mjs)`);
  }
  const unknown = options.only.filter((name) => !packages.includes(name));
  if (unknown.length > 0 || options.only.length === 0) throw new Error(`test:mutation: --only takes ${packages.join(' or ')}`);
  return options;
}

/** Stryker's score: detected (killed or timed out) over every mutant that was valid and not ignored. */
function scoreLine(name, reportFile, seconds) {
  if (!existsSync(reportFile)) return `${name}: no report (${reportFile} missing)`;
  const counts = {};
  const noCoverageIn = new Set();
  for (const [file, { mutants }] of Object.entries(JSON.parse(readFileSync(reportFile, 'utf8')).files)) {
    for (const { status } of mutants) {
      counts[status] = (counts[status] ?? 0) + 1;
      if (status === 'NoCoverage') noCoverageIn.add(file.split('/').pop());
    }
  }
  const n = (status) => counts[status] ?? 0;
  const detected = n('Killed') + n('Timeout');
  const valid = detected + n('Survived') + n('NoCoverage');
  const score = valid === 0 ? 0 : (100 * detected) / valid;
  const uncovered = n('NoCoverage') === 0 ? 'none uncovered' : `${n('NoCoverage')} uncovered (${[...noCoverageIn].sort().join(', ')})`;
  return (
    `${name}: mutation score ${score.toFixed(2)}% (${n('Killed')} killed, ${n('Timeout')} timed out, ` +
    `${n('Survived')} survived, ${uncovered}; ${n('Ignored')} static mutants not run) in ${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`
  );
}

const options = parseArgs(process.argv.slice(2));
const stryker = join(root, 'node_modules', '.bin', 'stryker');
const lines = [];
let failed = false;
for (const name of options.only) {
  const started = performance.now();
  const run = spawnSync(stryker, ['run', `packages/${name}/stryker.config.mjs`, ...options.strykerArgs], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) failed = true;
  const seconds = (performance.now() - started) / 1000;
  lines.push(run.status === 0 ? scoreLine(name, join(root, 'reports', 'mutation', name, 'mutation.json'), seconds) : `${name}: stryker run failed (exit ${run.status ?? run.signal})`);
}
console.log(lines.join('\n'));
process.exit(failed ? 1 : 0);
