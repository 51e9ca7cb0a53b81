import { MissingPeerDependencyError } from '../errors.js';

type FastCheck = typeof import('fast-check');

let loaded: Promise<FastCheck> | undefined;

/**
 * fast-check is an optional peer: the testing subpath loads without it (its
 * raw clients need nothing), and `checkNoLeaks` imports it on first use, so a
 * missing install fails with the package to add instead of Node's
 * `Cannot find package 'fast-check'` at import time.
 */
export function loadFastCheck(importer: () => Promise<unknown> = () => import('fast-check')): Promise<FastCheck> {
  if (loaded !== undefined && arguments.length === 0) return loaded;
  const attempt = importer().then(
    (module) => ((module as { default?: FastCheck }).default ?? module) as FastCheck,
    (error: unknown) => {
      const code = (error as { code?: string } | null)?.code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(String(error))) {
        throw new MissingPeerDependencyError(
          'checkNoLeaks needs fast-check, an optional peer dependency of @lifeline/node-adapter that is not installed. ' +
            'Install it next to your tests: npm install --save-dev fast-check (or pnpm add -D fast-check, yarn add -D fast-check).',
          'fast-check',
          error,
        );
      }
      throw error;
    },
  );
  if (arguments.length === 0) {
    loaded = attempt;
    // A failed load is not cached: installing the package and calling again works.
    attempt.catch(() => {
      loaded = undefined;
    });
  }
  return attempt;
}
