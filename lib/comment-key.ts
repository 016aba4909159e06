import { z } from 'zod';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';

/**
 * The key that makes a code host comment idempotent (CodeHostPort.comment). GitHub's adapter writes
 * it into a hidden HTML comment, so it may hold no '>' (which could close the marker early), no
 * space and no line break: letters, digits and . _ : / - only. Every code host checks it the same
 * way, so a key the local host takes is one GitHub takes too.
 */
export const CommentKey = z.string().regex(/^[A-Za-z0-9._:/-]{1,200}$/, { message: 'a comment key is 1 to 200 of A-Z a-z 0-9 . _ : / -' });

/** The key, checked; a key that fails is the caller's mistake and fails the same way every time. */
export function commentKey(key: string): string {
  const parsed = CommentKey.safeParse(key);
  if (!parsed.success) throw stewardFailure(ERROR_TYPES.invalidActivityInput, `invalid comment key ${JSON.stringify(key.slice(0, 80))}: ${z.prettifyError(parsed.error)}`, { key: key.slice(0, 200) });
  return parsed.data;
}
