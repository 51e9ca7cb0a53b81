// Loaded with `node --import` after tsx: any import of a package or builtin named in LIFELINE_FORBID
// (comma-separated) fails, naming what imported it. Hooks registered last run first, so this sees the
// specifier before tsx resolves it. Synchronous hooks where Node has them (module.register is
// deprecated from Node 26), asynchronous ones on Node 20.
import * as nodeModule from 'node:module';

const forbidden = (process.env.LIFELINE_FORBID ?? '').split(',').filter(Boolean);
const source = `
  const forbidden = new Set(${JSON.stringify(forbidden)});
  function check(specifier, context) {
    const name = specifier.startsWith('node:') ? specifier : specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
    if (forbidden.has(name)) throw new Error('forbidden import: ' + specifier + ' from ' + context.parentURL);
  }
`;

if (typeof nodeModule.registerHooks === 'function') {
  const check = new Function(`${source}; return check;`)();
  nodeModule.registerHooks({
    resolve(specifier, context, next) {
      check(specifier, context);
      return next(specifier, context);
    },
  });
} else {
  nodeModule.register(
    `data:text/javascript,${encodeURIComponent(`${source}
      export async function resolve(specifier, context, next) {
        check(specifier, context);
        return next(specifier, context);
      }`)}`,
  );
}
