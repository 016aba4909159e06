/** Kept for the tests that import it here; the bench needs it too, so it lives in lib/. */
export { freePort } from '../../lib/free-port';
