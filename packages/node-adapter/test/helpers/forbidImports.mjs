// Loaded with `node --import` after tsx: any import of a package or builtin named in LIFELINE_FORBID
// (comma-separated) fails, naming what imported it. Hooks registered last run first, so this sees the
// specifier before tsx resolves it.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
    const forbidden = new Set(${JSON.stringify((process.env.LIFELINE_FORBID ?? '').split(',').filter(Boolean))});
    export async function resolve(specifier, context, next) {
      const name = specifier.startsWith('node:') ? specifier : specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
      if (forbidden.has(name)) throw new Error('forbidden import: ' + specifier + ' from ' + context.parentURL);
      return next(specifier, context);
    }
  `)}`,
);
