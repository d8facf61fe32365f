/**
 * Minimal require hook: lets plain `node` load the bench's TypeScript (and the
 * src/ and test/ modules it imports) by transpiling each .ts file on load with
 * the project's own `typescript` (transpileModule: no type check; type-check
 * with `npx tsc -p tsconfig.test.json --noEmit`, which includes bench/).
 *
 * Files keep their real paths, so __dirname-relative lookups (tartan-node's
 * dist/ path, node_modules resolution) work exactly as under jest.
 *
 *   node -r ./bench/rib/ts-hook.js bench/rib/sender.ts ...
 */
'use strict';
const fs = require('node:fs');
const ts = require('typescript');

const options = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  inlineSourceMap: true,
  isolatedModules: true,
};

if (!require.extensions['.ts']) {
  require.extensions['.ts'] = function loadTs(module, filename) {
    const src = fs.readFileSync(filename, 'utf8');
    const out = ts.transpileModule(src, { compilerOptions: options, fileName: filename }).outputText;
    module._compile(out, filename);
  };
}
