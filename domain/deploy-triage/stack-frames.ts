/**
 * The frames of a stack trace, whatever runtime printed it: where each frame ran (file, line) and in
 * which function. The deploy triage grounds a causal link on them: the file or function the model
 * blames must be on the error's code path. Frames a format cannot name are left out, never guessed.
 */
export interface StackFrame {
  /** The function as the runtime printed it (`Object.discountCents`, `main.(*Server).handle`), or null for anonymous code. */
  function: string | null;
  /** The file as printed (absolute, relative or a URL), or null when the frame names none (native code). */
  file: string | null;
  line: number | null;
}

type FrameReader = (lines: string[], index: number) => { frame: StackFrame; consumed: number } | null;

// Node: `at fn (file:line:col)`, `at async fn (file:line:col)`, `at file:line:col`, `at new Foo (…)`, `at Object.fn [as alias] (…)`.
const NODE_NAMED = /^\s*at (?:async )?(?:new )?(.+?)(?: \[as [^\]]+\])? \((.*?)(?::(\d+))?(?::\d+)?\)\s*$/;
const NODE_BARE = /^\s*at (?:async )?((?:file:\/\/|\/|[A-Za-z]:\\|\.{0,2}\/|webpack:|node:)?[^\s()]+?):(\d+)(?::\d+)?\s*$/;
// Python: `  File "/app/pricing.py", line 12, in discount`.
const PYTHON = /^\s*File "([^"]+)", line (\d+)(?:, in (.+))?\s*$/;
// Java, Kotlin, Scala: `\tat com.acme.Pricing.discount(Pricing.java:12)`.
const JAVA = /^\s*at ([\w$.<>/]+)\(([^():]+)(?::(\d+))?\)\s*$/;
// Go: `main.(*Server).handle(0xc000010000)` then `\t/app/server.go:42 +0x1d`.
const GO_FUNCTION = /^([\w./*()\-[\]]+?)\((?:[^()]*)\)\s*$/;
const GO_LOCATION = /^\s+(\S+\.go):(\d+)(?: \+0x[0-9a-f]+)?\s*$/;
// Ruby: `/app/pricing.rb:12:in 'discount'` (or with a backtick).
const RUBY = /^\s*(?:from )?([^\s:]+\.rb):(\d+):in [`']([^'`]+)'(?::.*)?\s*$/;

const READERS: FrameReader[] = [
  (lines, index) => {
    const match = PYTHON.exec(lines[index]!);
    return match ? { frame: { function: match[3]?.trim() === '<module>' ? null : (match[3]?.trim() ?? null), file: match[1]!, line: Number(match[2]) }, consumed: 1 } : null;
  },
  (lines, index) => {
    const match = JAVA.exec(lines[index]!);
    if (!match || !/\.(java|kt|scala|groovy)$|^Native Method$|^Unknown Source$/.test(match[2]!)) return null;
    const file = /\.(java|kt|scala|groovy)$/.test(match[2]!) ? match[2]! : null;
    return { frame: { function: match[1]!, file, line: match[3] ? Number(match[3]) : null }, consumed: 1 };
  },
  (lines, index) => {
    const match = NODE_NAMED.exec(lines[index]!);
    if (!match) return null;
    const location = match[2]!;
    const native = location === 'native' || location === '<anonymous>';
    return { frame: { function: anonymous(match[1]!) ? null : match[1]!, file: native ? null : location, line: match[3] ? Number(match[3]) : null }, consumed: 1 };
  },
  (lines, index) => {
    const match = NODE_BARE.exec(lines[index]!);
    return match ? { frame: { function: null, file: match[1]!, line: Number(match[2]) }, consumed: 1 } : null;
  },
  (lines, index) => {
    const fn = GO_FUNCTION.exec(lines[index]!);
    const location = index + 1 < lines.length ? GO_LOCATION.exec(lines[index + 1]!) : null;
    return fn && location ? { frame: { function: fn[1]!, file: location[1]!, line: Number(location[2]) }, consumed: 2 } : null;
  },
  (lines, index) => {
    const match = RUBY.exec(lines[index]!);
    return match ? { frame: { function: match[3]!, file: match[1]!, line: Number(match[2]) }, consumed: 1 } : null;
  },
];

function anonymous(name: string): boolean {
  return name === '<anonymous>' || name === 'Object.<anonymous>' || name === '';
}

/** Every frame of the text, innermost first for Node, Java and Go, outermost first for Python, as printed. */
export function parseStackFrames(text: string): StackFrame[] {
  const lines = text.split(/\r?\n/);
  const frames: StackFrame[] = [];
  for (let index = 0; index < lines.length; ) {
    let read: { frame: StackFrame; consumed: number } | null = null;
    for (const reader of READERS) {
      read = reader(lines, index);
      if (read) break;
    }
    if (read) {
      frames.push(read.frame);
      index += read.consumed;
    } else {
      index += 1;
    }
  }
  return frames;
}

/**
 * The bare names a printed function may be known by in source: `Object.discountCents` → discountCents,
 * `com.acme.Pricing.discount` → discount and Pricing, `main.(*Server).handle` → handle and Server,
 * `Pricing#discount` → discount and Pricing, `Pricing::discount` → discount and Pricing,
 * `Server.lambda$handle$0` → handle and Server.
 */
export function functionNames(printed: string): string[] {
  const parts = printed
    .replace(/\[as [^\]]+\]/g, '')
    // A Java lambda is printed after the method it sits in: lambda$handle$0.
    .replace(/lambda\$([\w]+)\$\d+/g, '$1')
    .split(/[.#/]|::/)
    .map((part) => part.replace(/[()*[\]\s]/g, '').replace(/\$.*$/, ''))
    .filter((part) => /^[A-Za-z_][\w]*$/.test(part) && part !== 'Object' && part !== 'async' && part !== 'new' && !/^func\d+$/.test(part));
  const last = parts.at(-1);
  if (!last) return [];
  const owner = parts.length > 1 ? parts.at(-2)! : null;
  return owner && /^[A-Z]/.test(owner) ? [last, owner] : [last];
}
