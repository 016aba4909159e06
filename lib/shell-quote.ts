/**
 * Quotes a word for a POSIX shell, so that a model's pattern, a path or an argv element is never
 * read as shell syntax. Words made only of safe characters stay bare, which keeps logged command
 * lines readable; anything else is single-quoted.
 */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./=:@%^+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An argument vector as one shell command line that runs exactly that vector. */
export function shellWords(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
