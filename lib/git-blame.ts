/** Who a line's commit says wrote it, read from the porcelain output of `git blame -L n,n --porcelain`. */
export interface BlamedLine {
  commit: string;
  email: string | null;
  name: string;
}

/** The header of one blamed line: `<sha> <orig line> <final line> 1`, then `author …`, `author-mail <…>`. */
export function parseBlamePorcelain(porcelain: string): BlamedLine {
  const lines = porcelain.split('\n');
  const commit = /^([0-9a-f]{40,64}) /.exec(lines[0] ?? '')?.[1];
  if (!commit) throw new Error(`git blame gave no commit: ${porcelain.slice(0, 200)}`);
  const field = (name: string): string | null => lines.find((line) => line.startsWith(`${name} `))?.slice(name.length + 1) ?? null;
  const mail = field('author-mail')?.replace(/^<|>$/g, '') ?? '';
  return { commit, email: mail === '' ? null : mail, name: field('author') ?? '' };
}

/** The arguments that blame one line of a file at a commit; the commit is a full sha, so it cannot be read as an option. */
export function blameLineArgs(commit: string, file: string, line: number): string[] {
  return ['blame', '--porcelain', '-L', `${line},${line}`, commit, '--', file];
}
