import * as path from 'node:path';

/** Where Steward's own files are, whatever the working folder. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const DEMO_TRANSCRIPT_PATH = path.join(PROJECT_ROOT, 'demo', 'transcript.json');
/** The eval suites' labelled cases, one folder per suite. */
export const EVAL_DATASETS_DIR = path.join(PROJECT_ROOT, 'evals', 'datasets');
/** Recorded answers the eval suites replay without a live model: evals/recordings/<suite>/<case>.json. */
export const EVAL_RECORDINGS_DIR = path.join(PROJECT_ROOT, 'evals', 'recordings');
