#!/usr/bin/env node
// forge asks a native solc for `--version` and `--standard-json`; this answers both with npm's solc-js so
// forge never downloads a compiler. Aztec's forge cache ships, so in practice nothing is compiled.
const fs = require('fs');
const path = require('path');
const solc = require(path.join(__dirname, '..', 'node_modules', 'solc'));

const args = process.argv.slice(2);
if (args.includes('--version') || args.includes('-v')) {
  const version = solc.version().replace('Emscripten.clang', 'Linux.g++');
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${version}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  console.error(`solc shim: only --version and --standard-json are served, not: ${args.join(' ')}`);
  process.exit(2);
}
const roots = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base-path' || args[i] === '--include-path') roots.push(args[++i]);
}
roots.push(process.cwd(), '');
function findImports(file) {
  for (const dir of roots) {
    const candidate = path.resolve(dir, file);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  }
  return { error: `not found: ${file}` };
}
process.stdout.write(solc.compile(fs.readFileSync(0, 'utf8'), { import: findImports }));
