/**
 * Error text normalized so that occurrences of the same bug compare equal: ids, numbers, hex and
 * quoted values vary between events, so they become placeholders. Used for dedup ("this issue")
 * and to check that a reproduction fails for the reason in the alert.
 */
export function normalizeErrorText(text: string): string {
  return text
    .replace(/0x[0-9a-f]+/gi, '<hex>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\b[0-9a-f]{12,}\b/gi, '<hex>')
    .replace(/"[^"\n]*"/g, '"<str>"')
    .replace(/\b\d+(\.\d+)?\b/g, '<n>')
    .replace(/[ \t]+/g, ' ');
}

const ERROR_LINE = /\b([A-Z][A-Za-z]*(?:Error|Exception))\b(?: \[[A-Za-z]+\])?: (.+)/;

export interface ParsedError {
  type: string;
  message: string;
  /** Function names of the stack frames, innermost first. */
  frames: string[];
}

/** The first error named in a text (alert message, test output), with its stack frames. */
export function parseError(text: string): ParsedError | null {
  const lines = text.split('\n');
  const index = lines.findIndex((line) => ERROR_LINE.test(line));
  if (index < 0) return null;
  const [, type, message] = ERROR_LINE.exec(lines[index]!)!;
  const frames = lines
    .slice(index + 1)
    .map((line) => /^\s*at (?:async )?([^\s(]+) \(/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
  return { type: type!, message: message!.trim(), frames };
}

export function errorSignature(text: string): string {
  const parsed = parseError(text);
  const line = parsed ? `${parsed.type}: ${parsed.message}` : (text.split('\n').find((l) => l.trim() !== '') ?? '').trim();
  return normalizeErrorText(line).slice(0, 300);
}
