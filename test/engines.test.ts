/**
 * The Node versions package.json declares (`engines.node`) are ones every installed dependency supports:
 * each installed package's own `engines.node`, where it has one, must contain the whole declared range
 * (semver.subset), so no Node version we claim makes `npm ci` warn or a dependency misbehave.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

interface Manifest {
  name?: string;
  version?: string;
  engines?: { node?: string };
}

const declared = (JSON.parse(readFileSync('package.json', 'utf8')) as Manifest).engines?.node;

/** Every package.json of an installed package under `dir` (scoped and nested node_modules included). */
function installedManifests(dir: string, out: string[] = []): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name.startsWith('.') || !(e.isDirectory() || e.isSymbolicLink())) continue;
    const p = join(dir, e.name);
    if (e.name.startsWith('@')) {
      installedManifests(p, out);
      continue;
    }
    try {
      readFileSync(join(p, 'package.json'));
      out.push(join(p, 'package.json'));
    } catch {
      continue;
    }
    installedManifests(join(p, 'node_modules'), out);
  }
  return out;
}

describe('engines', () => {
  it('package.json declares a valid engines.node range', () => {
    expect(declared).toBeDefined();
    expect(semver.validRange(declared as string), `engines.node ${declared}`).not.toBeNull();
  });

  it('the Node running the tests is one the package declares', () => {
    expect(semver.satisfies(process.versions.node, declared as string), `node ${process.versions.node} vs ${declared}`).toBe(true);
  });

  it('every installed dependency supports every Node version the package declares', () => {
    const manifests = installedManifests('node_modules');
    // Hundreds of packages are installed (vitest, mermaid and their trees); a near-empty list means the walk broke.
    expect(manifests.length).toBeGreaterThan(100);
    const excluded: string[] = [];
    for (const file of manifests) {
      const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
      const needs = m.engines?.node;
      if (!needs || !semver.validRange(needs)) continue;
      if (!semver.subset(declared as string, needs)) excluded.push(`${m.name}@${m.version} needs node ${needs}`);
    }
    expect(excluded, `declared engines.node ${declared}`).toEqual([]);
  });
});
