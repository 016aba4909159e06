/**
 * A build log cut to size. The end of a log holds the error, so what is kept is its tail; a run of
 * several failed jobs keeps each job's heading and a fair share of each job's tail.
 */

export interface JobLog {
  /** e.g. "test (node 20), failed steps: Run npm test". */
  heading: string;
  log: string;
}

export interface CutLog {
  text: string;
  /** True when some of the log was left out. */
  truncated: boolean;
}

const CUT_MARK = '… (earlier lines cut)\n';

/** The last `maxChars` characters of `text`, starting at a line where one starts in that tail. */
export function logTail(text: string, maxChars: number): CutLog {
  if (text.length <= maxChars) return { text, truncated: false };
  const budget = Math.max(0, maxChars - CUT_MARK.length);
  let tail = text.slice(text.length - budget);
  const newline = tail.indexOf('\n');
  // Starting mid-line would open on half a message; a tail that is one long line is kept as it is.
  if (newline >= 0 && newline < tail.length - 1) tail = tail.slice(newline + 1);
  return { text: `${CUT_MARK.slice(0, maxChars)}${tail}`.slice(0, maxChars), truncated: true };
}

/**
 * The jobs' logs one after the other, each under its heading, within `maxChars`: short logs are kept
 * whole and the rest of the room is shared evenly by the longer ones, each keeping its tail.
 */
export function joinJobLogs(jobs: readonly JobLog[], maxChars: number): CutLog {
  const headings = jobs.map((job) => `=== ${job.heading} ===\n`);
  const separators = Math.max(0, jobs.length - 1);
  let room = Math.max(0, maxChars - headings.reduce((sum, heading) => sum + heading.length, 0) - separators);
  const shares = new Map<number, number>();
  const bySize = jobs.map((job, index) => ({ index, length: job.log.length })).sort((a, b) => a.length - b.length);
  bySize.forEach(({ index, length }, position) => {
    const share = Math.min(length, Math.floor(room / (bySize.length - position)));
    shares.set(index, share);
    room -= share;
  });
  let truncated = false;
  const sections = jobs.map((job, index) => {
    const cut = logTail(job.log, shares.get(index)!);
    truncated ||= cut.truncated;
    return `${headings[index]}${cut.text}`;
  });
  const text = sections.join('\n');
  // Headings alone past the limit (hundreds of failed jobs): the tail of the whole still fits.
  if (text.length > maxChars) return { text: logTail(text, maxChars).text, truncated: true };
  return { text, truncated };
}
