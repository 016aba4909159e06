import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * `npm ci` (what most CI systems and Dockerfiles run) refuses a lock that lacks an entry for any
 * optional dependency of a locked package, even one for another platform. npm 11 drops those
 * entries when it rewrites a lock over an existing node_modules, so this holds the committed lock
 * to what `npm ci` checks.
 */
interface LockedPackage {
  version?: string;
  optionalDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
}

const root = path.join(__dirname, '..');
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { lockfileVersion: number; packages: Record<string, LockedPackage> };
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

/** Where Node would find `name` from the package at `from`: its own node_modules, then each parent's. */
function resolveLocked(from: string, name: string): string | null {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!base) return null;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

describe('package-lock.json', () => {
  it('is a v3 lock whose root matches package.json', () => {
    expect(lock.lockfileVersion).toBe(3);
    const rootEntry = lock.packages[''] as LockedPackage & { devDependencies?: Record<string, string> };
    expect(rootEntry.dependencies).toEqual(manifest.dependencies);
    expect(rootEntry.devDependencies).toEqual(manifest.devDependencies);
  });

  it('locks every optional dependency of every locked package, for every platform', () => {
    const missing: string[] = [];
    for (const [location, entry] of Object.entries(lock.packages)) {
      if (location === '') continue;
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        if (!resolveLocked(location, name)) missing.push(`${name} (optional dependency of ${location})`);
      }
    }
    expect(missing).toEqual([]);
  });
});
