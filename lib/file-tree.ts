import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a tree of text files into a directory all at once: the files go to a hidden sibling
 * first, which then takes the directory's place, so a write that fails half-way leaves the
 * directory as it was (and says so) instead of half a tree that looks whole.
 */

export class DirectoryNotEmptyError extends Error {
  constructor(readonly directory: string) {
    super(`${directory} is not empty`);
    this.name = 'DirectoryNotEmptyError';
  }
}

/** A relative path that stays inside its root: no absolute paths, no `..`, no empty parts. */
function checkedRelative(file: string): string {
  const parts = file.split('/');
  if (path.isAbsolute(file) || file.includes('\\') || parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`refusing to write ${JSON.stringify(file)}: not a plain relative path`);
  }
  return path.join(...parts);
}

export function isEmptyOrAbsent(directory: string): boolean {
  if (!fs.existsSync(directory)) return true;
  return fs.readdirSync(directory).length === 0;
}

/**
 * Writes `files` as the whole content of `directory`. A directory that exists and is not empty is
 * refused, unless `replace`: then it is replaced whole, once the new tree is complete.
 */
export function writeFileTree(directory: string, files: readonly { path: string; content: string }[], options: { replace: boolean }): { directory: string; files: number } {
  const target = path.resolve(directory);
  if (fs.existsSync(target) && !fs.statSync(target).isDirectory()) throw new Error(`${target} exists and is not a directory`);
  if (!options.replace && !isEmptyOrAbsent(target)) throw new DirectoryNotEmptyError(target);
  const seen = new Set<string>();
  for (const file of files) {
    const relative = checkedRelative(file.path);
    if (seen.has(relative)) throw new Error(`two files of the tree at ${file.path}`);
    seen.add(relative);
  }

  fs.mkdirSync(path.dirname(target), { recursive: true });
  const suffix = randomBytes(4).toString('hex');
  const staging = path.join(path.dirname(target), `.${path.basename(target)}.partial-${suffix}`);
  try {
    fs.mkdirSync(staging);
    for (const file of files) {
      const destination = path.join(staging, checkedRelative(file.path));
      fs.mkdirSync(path.dirname(destination), { recursive: true });
      fs.writeFileSync(destination, file.content);
    }
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw new Error(`nothing was written to ${target}: ${(error as Error).message}`);
  }

  if (!fs.existsSync(target)) {
    fs.renameSync(staging, target);
  } else {
    // An existing directory (empty, or replaced) is moved aside first: rename cannot replace a non-empty one.
    const aside = path.join(path.dirname(target), `.${path.basename(target)}.old-${suffix}`);
    fs.renameSync(target, aside);
    try {
      fs.renameSync(staging, target);
    } catch (error) {
      fs.renameSync(aside, target);
      fs.rmSync(staging, { recursive: true, force: true });
      throw new Error(`nothing was written to ${target}: ${(error as Error).message}`);
    }
    fs.rmSync(aside, { recursive: true, force: true });
  }
  return { directory: target, files: files.length };
}
