// Worker-thread entry: worker threads do not inherit the main thread's TypeScript loader, so register tsx
// here, then load the worker itself.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
