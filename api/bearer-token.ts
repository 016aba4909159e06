import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { reject } from './http-errors';

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function presentsToken(authorization: string | undefined, expectedToken: string): boolean {
  const match = /^Bearer (.+)$/.exec(authorization ?? '');
  if (!match) return false;
  // Comparing digests gives timingSafeEqual the equal lengths it needs without revealing the token's length.
  return timingSafeEqual(sha256(match[1]), sha256(expectedToken));
}

/** An onRequest hook: the token is checked before a byte of the body is read. */
export function requireBearerToken(expectedToken: string) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!presentsToken(request.headers.authorization, expectedToken)) {
      throw reject(401, 'missing or wrong bearer token', {}, { 'WWW-Authenticate': 'Bearer' });
    }
  };
}
