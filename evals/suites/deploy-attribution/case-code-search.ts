import type { CodeSearchPort } from '../../../ports/code-search.port';
import type { AttributionCase } from '../../cases/case.schema';

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The repository as one case knows it: the files it holds (as at the deploy under watch) and its
 * diffs. A revision's code is those files plus the lines its diff adds; the revision before a
 * deploy, the files plus the lines the diff removes. That is all the grounding asks of it.
 */
export function caseCodeSearch(testCase: AttributionCase): CodeSearchPort {
  const { files, deploys } = testCase.input;
  const diffLines = (revision: string, marker: '+' | '-'): string =>
    deploys
      .filter((d) => (marker === '+' ? d.revision === revision : d.previousRevision === revision))
      .flatMap((d) => d.diffText.split('\n').filter((line) => line.startsWith(marker) && !line.startsWith(`${marker}${marker}${marker}`)))
      .map((line) => line.slice(1))
      .join('\n');
  const codeAt = (revision: string): string => [...Object.values(files), diffLines(revision, '+'), diffLines(revision, '-')].join('\n');
  const pathsIn = (revision: string): Set<string> => {
    const paths = new Set(Object.keys(files));
    for (const d of deploys) if (d.revision === revision || d.previousRevision === revision) for (const m of d.diffText.matchAll(/^\+\+\+ b\/(.+)$/gm)) paths.add(m[1]!);
    return paths;
  };
  return {
    async filesExist(_service, revision, paths) {
      const present = pathsIn(revision);
      return Object.fromEntries(paths.map((p) => [p, present.has(p)]));
    },
    async findSymbols(_service, revision, symbols) {
      const code = codeAt(revision);
      return Object.fromEntries(symbols.map((s) => [s, new RegExp(`(^|[^A-Za-z0-9_$])${escape(s)}($|[^A-Za-z0-9_$])`).test(code)]));
    },
    async readFile(_service, _revision, file) {
      return files[file] ?? null;
    },
    async diff(_service, from, to) {
      const deploy = deploys.find((d) => d.revision === to && d.previousRevision === from);
      if (!deploy) throw new Error(`eval case ${testCase.id} holds no diff ${from ?? '(root)'}..${to}`);
      return { text: deploy.diffText, truncated: false, from: from ?? '', to };
    },
    async findLiterals(_service, _revision, literals) {
      const located = (literal: string): { file: string; line: number } | null => {
        for (const [file, content] of Object.entries(files)) {
          const index = content.split('\n').findIndex((line) => line.includes(literal));
          if (index >= 0) return { file, line: index + 1 };
        }
        return null;
      };
      return Object.fromEntries(literals.map((literal) => [literal, located(literal)]));
    },
    async listSourceFiles() {
      return Object.keys(files).sort();
    },
    async countSourceLines() {
      const contents = Object.values(files);
      return { files: contents.length, lines: contents.reduce((sum, c) => sum + c.split('\n').length, 0) };
    },
    async lastChanges() {
      // A case holds files and diffs, no commit history: answering null would pass for "never changed".
      throw new Error(`eval case ${testCase.id} holds no commit history to read last changes from`);
    },
  };
}
