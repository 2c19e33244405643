// Jest transform for client/: the package is ESM on disk (type: module), jest runs CommonJS, so
// esbuild (a root devDependency) strips the types and rewrites the imports. Types are checked
// by `tsc`, not here.
const { transformSync } = require('esbuild');

module.exports = {
  process(source, path) {
    const { code, map } = transformSync(source, {
      loader: 'ts',
      format: 'cjs',
      target: 'es2022',
      sourcemap: 'external',
      sourcefile: path,
    });
    return { code, map };
  },
};
