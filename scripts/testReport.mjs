// Counts one vitest JSON report the way CI reports it: a file that failed to load
// (no assertion results) and runtime errors count as failures, so a suite that
// crashes can never look green.
import { readFileSync } from 'node:fs';

/**
 * @param {string} file path of a report written by vitest's json reporter
 * @returns {{ passed: number, failed: number, total: number }}
 */
export function countReport(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const brokenFiles = report.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
  const failed = report.numFailedTests + (report.numRuntimeErrors ?? 0) + brokenFiles;
  return { passed: report.numPassedTests, failed, total: report.numTotalTests };
}

/** The plain closing line CI is read by. */
export function summaryLine(label, { passed, failed }) {
  return `${label}: ${passed} passed, ${failed} failed`;
}
