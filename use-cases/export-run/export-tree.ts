/**
 * The files of an export as they are assembled: each with what it holds (for the README's index),
 * and the notes on what the export could not hold (for its "not kept" section).
 */

export interface ExportedFile {
  /** Relative, with forward slashes. */
  path: string;
  content: string;
  /** One line for the README's index. */
  holds: string;
}

export class ExportTree {
  readonly files: ExportedFile[] = [];
  /** What the export does not hold, and why: said in the README, never papered over. */
  readonly notKept: string[] = [];

  text(path: string, content: string, holds: string): void {
    this.files.push({ path: `${path}`, content: content.endsWith('\n') ? content : `${content}\n`, holds });
  }

  /** A file placed first, e.g. the README, written last because it indexes the rest. */
  prepend(path: string, content: string, holds: string): void {
    this.files.unshift({ path: `${path}`, content: content.endsWith('\n') ? content : `${content}\n`, holds });
  }

  json(path: string, value: unknown, holds: string): void {
    this.text(path, JSON.stringify(value ?? null, null, 2), holds);
  }

  missing(note: string): void {
    this.notKept.push(note);
  }

  /** Another tree's files under `dir/`, with its notes prefixed by where they apply. */
  nest(dir: string, other: ExportTree): void {
    for (const file of other.files) this.files.push({ ...file, path: `${dir}/${file.path}` });
    for (const note of other.notKept) this.notKept.push(`${dir}/: ${note}`);
  }
}

/** A fenced block that no backtick run inside the text can close. */
export function fenced(text: string, language = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${text.replace(/\n$/, '')}\n${fence}`;
}

/** A safe file name from any text: letters, digits, dot, dash and underscore. */
export function fileName(text: string, max = 80): string {
  const safe = text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  return (safe || 'unnamed').slice(0, max);
}

/** A repository path kept as a path, each part made safe, so that nothing lands outside its folder. */
export function safeRelativePath(path: string): string {
  return path
    .split(/[\\/]+/)
    .filter((part) => part !== '' && part !== '.' && part !== '..')
    .map((part) => fileName(part, 120))
    .join('/');
}

export const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

export function table(header: string[], rows: string[][]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)].join('\n');
}
