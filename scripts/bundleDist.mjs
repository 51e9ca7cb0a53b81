// Bundles a package's dist/: one ES module file per entry point of its `exports` map. Run from the
// package's folder, after `tsc` has written the declarations. Why: Node's ES module loader costs about
// a millisecond per file (resolve, read, compile, link), so a package of 20 files cost more at startup
// than the code in it. Dependencies and node:* stay external, so each entry point loads only what it
// imports; a subpath reaches the root's code through the package's own name (a self-reference), so
// no class, symbol or WeakMap exists twice. The build fails if a subpath's bundle copies a module of
// the root's bundle, unless that module is listed in COPY_OK (stateless, or state keyed by Symbol.for).
// One exception to "dependencies stay external": @lifeline/core/internal (option checks, error branding,
// bindToCaller) is bundled into the packages that use it, from the core's sources. Loaded at run time it
// was a third file for `import '@lifeline/node-adapter'` to resolve, read, compile and evaluate, itself
// a second copy of those modules: about 6% of the instructions the import adds to node:http's, measured
// under callgrind (see the import cost notes in packages/bench/README.md).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const COPY_OK = new Set([
  'src/restoreOpen.ts',
  'src/invalidArgument.ts',
  'src/timerLimit.ts',
  // Argument checks and shared constants reached by the adapter's otel and prometheus subpaths: stateless.
  'src/checkRegistry.ts',
  'src/durationBuckets.ts',
  // Reached by @lifeline/core/internal: option checks and the generated table are stateless data and
  // functions; error classes are branded with Symbol.for, so instanceof agrees across copies.
  'src/options.ts',
  'src/registryOptionRules.ts',
  'src/connectionTable.generated.ts',
  'src/compiledMachine.ts',
  'src/errors.ts',
  // bindToCaller, for the adapter's onEnd: its only module state is a cache of how to bind, the same in every copy.
  'src/asyncContext.ts',
  // The core internals that the adapter's root and subpath bundles all carry (see above): stateless option
  // checks, and error classes branded with Symbol.for, as for the core's own entries above.
  '../core/src/options.ts',
  '../core/src/errors.ts',
]);

const coreInternal = fileURLToPath(new URL('../packages/core/src/internal.ts', import.meta.url));
/** Resolves `@lifeline/core/internal` to the core's source, so that it is bundled rather than left external. */
const bundleCoreInternal = {
  name: 'bundle-core-internal',
  setup(builder) {
    builder.onResolve({ filter: /^@lifeline\/core\/internal$/ }, () => ({ path: coreInternal }));
  },
};

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const entryPoints = Object.values(pkg.exports).map((target) => ({
  in: target['@lifeline/source'],
  out: target.default.replace(/^\.\/dist\//, '').replace(/\.js$/, ''),
}));

// tsc emits declarations only; JavaScript left by an older per-file build would be dead weight in the tarball.
const stale = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? stale(join(dir, d.name)) : /\.js(\.map)?$/.test(d.name) ? [join(dir, d.name)] : [],
  );
for (const file of stale('dist')) rmSync(file);

const common = {
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2023',
  packages: 'external',
  external: ['node:*'],
  sourcemap: true,
  sourcesContent: false,
  metafile: true,
  tsconfig: 'tsconfig.build.json',
  logLevel: 'warning',
  plugins: [bundleCoreInternal],
};
/** The modules whose code ended up in a build's bundles: a module visited but shaken out entirely is no copy. */
const bundled = ({ metafile }) =>
  new Set(Object.values(metafile.outputs).flatMap((output) => Object.entries(output.inputs).filter(([, use]) => use.bytesInOutput > 0).map(([input]) => input)));
const [root, ...subpaths] = entryPoints;
const rootInputs = bundled(await build({ ...common, entryPoints: [root] }));
const copies = [...bundled(await build({ ...common, entryPoints: subpaths }))].filter((input) => rootInputs.has(input) && !COPY_OK.has(input));
if (copies.length > 0) {
  console.error(`bundleDist: ${pkg.name}: subpath bundles copy the root's ${copies.join(', ')}; import it through '${pkg.name}' instead`);
  process.exit(1);
}
