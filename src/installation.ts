/**
 * Where this copy of gmem-spec lives, and what its install step left behind. The same code runs from the
 * sources in a checkout (src/installation.ts) and from the built package (dist/src/installation.js), at
 * different depths, so paths to the package's own files (the native helper, shipped data) are
 * found from the package root, never by counting `../` from a module.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'gmem-spec';

/** Written by scripts/build-native.mjs when the native helper could not be built; its first line is why. */
export const NATIVE_BUILD_FAILED_FILE = join('native', 'build', 'BUILD-FAILED.txt');

function packageNameAt(dir: string): string | undefined {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  try {
    const name: unknown = (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The nearest directory at or above `from` whose package.json is named gmem-spec. */
export function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (packageNameAt(dir) === PACKAGE_NAME) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json named ${PACKAGE_NAME} at or above ${from}`);
  }
}

let root: string | undefined;

/** The root of this installation: the checkout, or node_modules/gmem-spec. */
export function packageRoot(): string {
  root ??= findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  return root;
}

/** A path inside this installation, e.g. `packagePath('native', 'build', 'gmem-helper')`. */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}

/** Where scripts/build-native.mjs puts the linux backend's helper. */
export function nativeHelperPath(): string {
  return packagePath('native', 'build', 'gmem-helper');
}

/**
 * Why the native helper is missing, in one line that says how to get it, or undefined when it is there.
 * Three cases: the build ran and failed (its reason file says why), or the build never ran (npm skips a
 * dependency's install script unless it is allowed), or someone removed the binary.
 */
export function nativeHelperProblem(helperPath: string = nativeHelperPath()): string | undefined {
  if (existsSync(helperPath)) return undefined;
  const build = `node ${packagePath('scripts', 'build-native.mjs')}`;
  const failed = packagePath(NATIVE_BUILD_FAILED_FILE);
  if (existsSync(failed)) {
    const why = readFileSync(failed, 'utf8').split('\n')[0]?.trim() || 'no reason recorded';
    return `the native helper was not built at install: ${why} (after fixing that, run \`${build}\`)`;
  }
  return `the native helper ${helperPath} is not built (the install script did not run: npm skips a dependency's ` +
    `install script unless it is allowed with --allow-scripts=${PACKAGE_NAME}); build it with \`${build}\``;
}
