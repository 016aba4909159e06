/**
 * The key that makes a code host comment idempotent (CodeHostPort.comment). GitHub's adapter writes
 * it into a hidden HTML comment, so it may hold no '>' (which could close the marker early), no
 * space and no line break: letters, digits and . _ : / - only, at most 200 of them. Every code host
 * checks it the same way, so a key the local host takes is one GitHub takes too.
 */
const COMMENT_KEY = /^[A-Za-z0-9._:/-]{1,200}$/;

/** Why the key cannot be a comment key, or null when it can. */
export function commentKeyProblem(key: string): string | null {
  if (COMMENT_KEY.test(key)) return null;
  return `invalid comment key ${JSON.stringify(key.slice(0, 80))}: a comment key is 1 to 200 of A-Z a-z 0-9 . _ : / -`;
}
