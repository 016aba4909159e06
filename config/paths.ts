import * as path from 'node:path';

/** Where Steward's own files are, whatever the working folder. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const DEMO_TRANSCRIPT_PATH = path.join(PROJECT_ROOT, 'demo', 'transcript.json');
