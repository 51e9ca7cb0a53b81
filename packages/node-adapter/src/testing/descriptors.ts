import { existsSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * The files this process holds open, by descriptor: regular files and
 * directories only (sockets, pipes and other anonymous descriptors are left
 * out, as they come and go with every connection). `undefined` where the
 * platform does not list a process's descriptors (Linux's /proc/self/fd).
 *
 * @example
 * ```ts
 * const before = openFileDescriptors();
 * await serveSomething();
 * const leaked = newDescriptors(before, openFileDescriptors()); // paths still open
 * ```
 */
export function openFileDescriptors(): Map<number, string> | undefined {
  if (!existsSync('/proc/self/fd')) return undefined;
  const open = new Map<number, string>();
  for (const entry of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${entry}`);
      if (target.startsWith('/') && !target.startsWith('/dev/') && !target.startsWith('/proc/')) open.set(Number(entry), target);
    } catch {
      // closed while listing (including the descriptor readdir itself used)
    }
  }
  return open;
}

/** The paths open in `after` under descriptors that were not open (to the same path) in `before`. */
export function newDescriptors(before: Map<number, string> | undefined, after: Map<number, string> | undefined): string[] {
  if (before === undefined || after === undefined) return [];
  const added: string[] = [];
  for (const [fd, target] of after) if (before.get(fd) !== target) added.push(target);
  return added;
}

/** How many descriptors this process holds open on `file` (0 where the platform cannot tell). */
export function descriptorsOpenOn(file: string): number {
  let count = 0;
  for (const target of openFileDescriptors()?.values() ?? []) if (target === file) count++;
  return count;
}
