// Worker-thread entry. In the built package (dist/src/check/) the worker's JavaScript is beside this file:
// load it. From the sources (a checkout) it is TypeScript, and worker threads do not inherit the main
// thread's loader, so register tsx here first.
import { existsSync } from 'node:fs';

const built = new URL('./worker.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./worker.ts');
}
