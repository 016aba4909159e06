import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DirectoryNotEmptyError, writeFileTree } from './file-tree';

describe('writeFileTree', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'file-tree-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const listed = (dir: string) => fs.readdirSync(dir, { recursive: true }).map(String).sort();

  it('writes the tree into an absent directory, refuses a non-empty one, and replaces it whole when told to', () => {
    const dir = path.join(root, 'out');
    expect(writeFileTree(dir, [{ path: 'README.md', content: 'one' }, { path: 'a/b.json', content: '{}' }], { replace: false })).toEqual({ directory: dir, files: 2 });
    expect(listed(dir)).toEqual(['README.md', 'a', 'a/b.json']);
    expect(() => writeFileTree(dir, [{ path: 'README.md', content: 'two' }], { replace: false })).toThrow(DirectoryNotEmptyError);
    expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toBe('one');
    writeFileTree(dir, [{ path: 'README.md', content: 'two' }], { replace: true });
    expect(listed(dir)).toEqual(['README.md']);
    expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toBe('two');
    // Nothing of the staging is left beside it.
    expect(fs.readdirSync(root)).toEqual(['out']);
  });

  it('leaves the directory as it was when a write fails half-way, and writes nothing outside it', () => {
    const dir = path.join(root, 'out');
    writeFileTree(dir, [{ path: 'README.md', content: 'kept' }], { replace: false });
    // "a" is written as a file, so "a/b" cannot be: the failure comes after some files were written.
    expect(() => writeFileTree(dir, [{ path: 'a', content: 'x' }, { path: 'a/b', content: 'y' }], { replace: true })).toThrow(/nothing was written to/);
    expect(listed(dir)).toEqual(['README.md']);
    expect(fs.readdirSync(root)).toEqual(['out']);
    expect(() => writeFileTree(dir, [{ path: '../escape.md', content: 'no' }], { replace: true })).toThrow(/not a plain relative path/);
    expect(fs.existsSync(path.join(root, 'escape.md'))).toBe(false);
  });
});
