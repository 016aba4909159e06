import { signatureOf, type TemplateMatch } from './log-template-miner';

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

/**
 * The signature of the error a text names: the template miner's signature of its first error line
 * (`Type: message`), or of its first line when it names no exception. It is the one function behind
 * dedup (the PR link on a monitor), the triage prompt and the deploy watch's signatures, so an id
 * shown in one is the id shown in the others.
 */
export function errorSignatureOf(text: string): TemplateMatch {
  const parsed = parseError(text);
  return signatureOf(parsed ? `${parsed.type}: ${parsed.message}` : (text.split('\n').find((l) => l.trim() !== '') ?? '').trim());
}

/** The id of errorSignatureOf: 16 hex characters, what incidents and PR links carry. */
export function errorSignature(text: string): string {
  return errorSignatureOf(text).id;
}
