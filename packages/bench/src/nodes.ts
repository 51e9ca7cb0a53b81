/**
 * The Node binaries the bench can run its server children under: the
 * parent's own, and the versions `pnpm test:node` unpacks into
 * .cache/node/<version>/bin/node (pinned in scripts/node-versions.json).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface NodeBinary {
  readonly path: string;
  readonly version: string;
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The node running this process. */
export function ownNode(): NodeBinary {
  return { path: process.execPath, version: process.version };
}

/** The binary of a major (`'24'`) or exact version, or undefined when it is neither the parent's nor unpacked. */
export function findNode(wanted: string): NodeBinary | undefined {
  const matches = (version: string) => version === wanted || version.split('.')[0] === wanted;
  if (matches(process.version.slice(1))) return ownNode();
  const pinned = (JSON.parse(readFileSync(`${ROOT}scripts/node-versions.json`, 'utf8')) as { versions: { version: string }[] }).versions;
  for (const { version } of pinned) {
    const path = `${ROOT}.cache/node/${version}/bin/node`;
    if (matches(version) && existsSync(path)) return { path, version: `v${version}` };
  }
  return undefined;
}
