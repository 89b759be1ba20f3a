#!/usr/bin/env node
// The gmem-spec command. Two ways to run, chosen by what is here:
//  - a checkout (the TypeScript sources are here): run them through tsx's loader, so an edit takes effect
//    without a build (tsx is a devDependency);
//  - an installed package (only dist/ ships): run the built JavaScript, no TypeScript toolchain needed.
// GMEM_SPEC_DIST=1 runs dist/ in a checkout too (to try the build: `npm run build` first).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sources = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/src/cli/main.js', import.meta.url);
let main;
if (existsSync(sources) && process.env.GMEM_SPEC_DIST !== '1') {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
} else if (existsSync(built)) {
  ({ main } = await import(built.href));
} else {
  process.stderr.write(`gmem-spec: ${fileURLToPath(built)} is not built (run \`npm run build\`)\n`);
  process.exit(2);
}
process.exitCode = await main(process.argv.slice(2));
