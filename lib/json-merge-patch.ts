/**
 * RFC 7396 JSON merge patch: an object patch merges into an object member by member, a null member
 * removes that member, and anything else (an array, a scalar, a patch onto a non-object) replaces
 * the target whole. The target is not changed; a new value is returned.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
