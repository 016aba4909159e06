/**
 * Normalizes an error line into a signature that is stable across occurrences: ids, numbers, hex,
 * quoted values and paths with line numbers vary between events of the same bug, so they are
 * replaced by placeholders. Used for dedup ("this issue") and for matching reproductions.
 */
export function errorSignature(text: string): string {
  const firstErrorLine =
    text
      .split('\n')
      .map((line) => line.trim())
      .find((line) => /\b[A-Z][A-Za-z]*(Error|Exception)\b/.test(line)) ?? text.split('\n')[0]?.trim() ?? '';
  return firstErrorLine
    .replace(/0x[0-9a-f]+/gi, '<hex>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\b[0-9a-f]{12,}\b/gi, '<hex>')
    .replace(/"[^"]*"/g, '"<str>"')
    .replace(/\b\d+(\.\d+)?\b/g, '<n>')
    .replace(/\s+/g, ' ')
    .slice(0, 300);
}

/** The exception type named in an error line, e.g. `TypeError`; null when there is none. */
export function exceptionType(text: string): string | null {
  const match = /\b([A-Z][A-Za-z]*(?:Error|Exception))\b/.exec(text);
  return match ? match[1]! : null;
}
