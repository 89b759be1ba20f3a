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

/** Where scripts/build-native.mjs puts the linux backend's helper, in the installation at `root`. */
export function nativeHelperPath(root: string = packageRoot()): string {
  return join(root, 'native', 'build', 'gmem-helper');
}

/**
 * Why the native helper of the installation at `root` is missing, in one line that says how to get it, or
 * undefined when it is there. Either the build ran and failed (its reason file says why), or it never ran
 * (npm may skip a dependency's install script until it is allowed), or someone removed the binary.
 */
export function nativeHelperProblem(root: string = packageRoot()): string | undefined {
  const helper = nativeHelperPath(root);
  if (existsSync(helper)) return undefined;
  const build = `node ${join(root, 'scripts', 'build-native.mjs')}`;
  const failed = join(root, NATIVE_BUILD_FAILED_FILE);
  if (existsSync(failed)) {
    const why = readFileSync(failed, 'utf8').split('\n')[0]?.trim() || 'no reason recorded';
    return `the native helper was not built: ${why} (after fixing that, run \`${build}\`)`;
  }
  return (
    `the native helper ${helper} is not built (the package's install script did not run: npm may skip it until ` +
    `it is allowed: \`npm install-scripts approve ${PACKAGE_NAME}\` in a project, --allow-scripts=${PACKAGE_NAME} ` +
    `on a global install); build it with \`${build}\``
  );
}
