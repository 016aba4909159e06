import { z } from 'zod';

/**
 * Error signatures by template mining, after Drain (He et al., ICWS 2017): a log line is split
 * into tokens, values are masked (a token with a digit is a value as a whole, and so are paths,
 * host names, addresses, timestamps and quantities with their unit; a run of values is one value),
 * and the line is routed through a fixed-depth tree — by token count, then by its first tokens —
 * to a leaf whose templates it is compared with. A line close enough to a template joins it, and
 * the positions where the two differ become parameters (`<*>`): once a position has been seen
 * varying, it stays a parameter. Two different plain words never make a parameter by themselves
 * (`GET` and `POST`, `spawn` and `destroy` name different events); a word position becomes one
 * only once templates alike but for it have shown several words there (users, hosts). Otherwise
 * the line starts a template of its own.
 *
 * A template keeps the id it was born with, so a signature stays the same while its template
 * generalizes; templates merged into an older one leave their id as an alias of it; the miner's
 * state can be saved and loaded, so ids are stable across runs.
 *
 * This module is pure (no I/O); it reads nothing but what it is given.
 */

export const PARAMETER = '<*>';

export interface MinerOptions {
  /** How many leading tokens route a line below its length; Drain's depth minus two. */
  routingTokens: number;
  /** The share of a line's tokens a template must hold (a parameter holds any) for the line to join it: 0.85 groups best on average over loghub's 16 labelled samples (npm run bench:signatures; 0.7 and 0.5 were tried). */
  similarity: number;
  /** Templates kept per leaf; beyond it, a new line joins its most similar template. */
  maxTemplatesPerLeaf: number;
  /** Longest message, in characters, that is mined; the rest is cut, with the cut recorded. */
  maxMessageChars: number;
  /**
   * Templates alike but for one word (`session closed for user cyrus`, `… news`, `… test`, `… root`)
   * are one event once that many words have been seen there: a word position that takes so many
   * values holds a value (a user, a host), where two or three (`GET`/`POST`, `spawn`/`destroy`) name
   * different events. 4 groups best on average over loghub's labelled samples (3 and 5 were tried).
   */
  wordValuesForParameter: number;
}

const DEFAULT_WORD_VALUES = 4;

export const DEFAULT_MINER_OPTIONS: MinerOptions = { routingTokens: 1, similarity: 0.85, maxTemplatesPerLeaf: 100, maxMessageChars: 4_000, wordValuesForParameter: DEFAULT_WORD_VALUES };

export interface LogTemplate {
  /** Stable id: the hash of the template as first seen, 16 hex characters. */
  id: string;
  tokens: string[];
  /** Lines matched so far. */
  count: number;
}

export interface TemplateMatch {
  id: string;
  template: string;
}

const TEMPLATE_ID = z.string().regex(/^[0-9a-f]{16}$/);

export const MinerState = z.object({
  version: z.literal(1),
  options: z.object({ routingTokens: z.number().int().min(0), similarity: z.number().min(0).max(1), maxTemplatesPerLeaf: z.number().int().min(1), maxMessageChars: z.number().int().min(1), wordValuesForParameter: z.number().int().min(2).default(DEFAULT_WORD_VALUES) }),
  templates: z.array(z.object({ id: TEMPLATE_ID, tokens: z.array(z.string()), count: z.number().int().min(0) })),
  /** Ids of templates merged into another, to the id that took them: a signature given before a merge still names its template. */
  aliases: z.record(TEMPLATE_ID, TEMPLATE_ID).default({}),
});
export type MinerState = z.infer<typeof MinerState>;

/**
 * Quantities written with their unit (`1190 bytes`, `(1.16 KB)`, `<1 sec`, `19.05 seconds`, `75%`):
 * the number and its unit are one value, so that `0 bytes sent` and `1190 bytes (1.16 KB) sent`
 * are the same event. Replaced in the message before it is split into tokens.
 */
const QUANTITY = /(?<![\w.])\(?[-+<>~#]?\d[\d.,:]*\s?(?:[KMGT]i?B|bytes?|B|ms|us|µs|ns|secs?|seconds?|s|mins?|minutes?|hours?|%)\)?(?![\w(])/g;

/**
 * Values that are one token even though they hold separators or spaces: MAC and IPv6 addresses,
 * ISO and ctime timestamps (`Fri Jun 17 07:07:00 2005`), host names with a port.
 */
const WHOLE_VALUE =
  /\b[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){3,7}\b|\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?|\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d{2}:\d{2}:\d{2}(?: \d{4})?|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+:\d{1,5}(?![\w.:])/g;

/** Replaces the values a message spells across token boundaries, before it is split. */
export function maskMessage(message: string): string {
  // Every value masked here holds a digit, and those of WHOLE_VALUE a colon: most lines skip one pass or both.
  if (!/\d/.test(message)) return message;
  return (message.includes(':') ? message.replace(WHOLE_VALUE, PARAMETER) : message).replace(QUANTITY, PARAMETER);
}

/** Splits a message into tokens: on white space, and apart from `=`, `:` or `,` that end a word, so `key=value` varies in its value only. */
export function tokenize(message: string): string[] {
  const tokens: string[] = [];
  for (const word of message.trim().split(/\s+/)) {
    if (word.length === 0) continue;
    // Most words hold none of the separators: they skip the lookbehind split.
    // Paths and URLs stay whole, their query strings with them.
    if (!/[=:,]/.test(word) || word.startsWith('/') || word.includes('://')) tokens.push(word);
    else for (const token of word.split(/(?<==)|(?<=[^:\d]:)(?=[^:/])|(?<=,)(?=\S)/)) if (token.length > 0) tokens.push(token);
  }
  return tokens;
}

/**
 * A token with a digit in it is a value as a whole (`blk_-1608`, `/data/subdir51/blk_9`, `root14_local`,
 * `node-D7`): masking only its digits would keep apart what differs only in where the digits fall.
 * A `key=` before the value is kept, so that `uid=0` still says which value it is. Without a digit,
 * paths (`/latest/meta-data/`) and lower-case host names (`ns.example.com`) are values too; a
 * dotted name with capitals (`NameSystem.allocateBlock`, `java.lang.NullPointerException`) names code, and is kept.
 */
export function maskToken(token: string): string {
  if (!/\d|<\*>/.test(token)) return ((token.includes('/') || token.includes('.')) && NAME_VALUE.test(token)) || (token.length <= 6 && EMPTY_VALUE.test(token)) ? PARAMETER : token;
  // A name with one digit (`ssh2`, `eth0`, `IPv6`) names a thing, not a value.
  if (NUMBERED_NAME.test(token)) return token;
  const prefix = LABEL_PREFIX.exec(token);
  return prefix ? `${prefix[0]}${PARAMETER}` : PARAMETER;
}

/** `()`, `""`, `[]`: a value left empty; `true`, `false`, `null`: values however they are written. */
const EMPTY_VALUE = /^(?:\(\)|\[\]|""|''|\{\}|true|false|null)[,;:.]?$/i;
const NUMBERED_NAME = /^["'(\[]?[A-Za-z]{2,}\d["')\],;:.]?$/;
/** `uid=`, `onExtend:`, `instruction......`: a label glued to the value it introduces. */
const LABEL_PREFIX = /^[A-Za-z][A-Za-z_-]*(?:=|:|\.{2,}|\{|\(|\[)(?=.)/;
const NAME_VALUE = /^["'(\[<]*(?:\.{0,2}\/[^\s/]*\/\S*|~\/\S*|[a-z][a-z-]*(?:\.[a-z-]+){2,})["')\]>,;:.]*$/;

function alikeBut(a: readonly string[], b: readonly string[], position: number): boolean {
  for (let i = 0; i < a.length; i += 1) if (i !== position && a[i] !== b[i]) return false;
  return a.length === b.length;
}

/** A plain word (`GET`, `spawn`, `'percent'`, `failures;`): two different ones name different events, never a value. */
function isWord(token: string): boolean {
  return /^["'(\[{]*[A-Za-z][A-Za-z_-]*\d?["')\]},;:.!?]*$/.test(token);
}

/**
 * 16 hex characters from two 32-bit FNV-1a hashes of the template (different offset bases): an id,
 * not a secret, and the miner makes thousands of them a second, which a cryptographic hash slowed
 * down more than everything else together. A collision is resolved by freshId.
 */
function templateId(tokens: readonly string[]): string {
  const text = tokens.join(' ');
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

export class LogTemplateMiner {
  private readonly options: MinerOptions;
  /** length → routing key → templates of that leaf. */
  private readonly leaves = new Map<number, Map<string, LogTemplate[]>>();
  private readonly byId = new Map<string, LogTemplate>();
  /** Ids of templates merged into another: id → the id that took it. */
  private readonly aliases = new Map<string, string>();

  constructor(options: Partial<MinerOptions> = {}) {
    this.options = { ...DEFAULT_MINER_OPTIONS, ...options };
  }

  static fromState(state: unknown): LogTemplateMiner {
    const parsed = MinerState.parse(state);
    const miner = new LogTemplateMiner(parsed.options);
    for (const template of parsed.templates) miner.place({ ...template, tokens: [...template.tokens] });
    for (const [from, to] of Object.entries(parsed.aliases)) miner.aliases.set(from, to);
    return miner;
  }

  state(): MinerState {
    return { version: 1, options: { ...this.options }, templates: [...this.byId.values()].map((t) => ({ id: t.id, tokens: [...t.tokens], count: t.count })), aliases: Object.fromEntries(this.aliases) };
  }

  get templates(): readonly LogTemplate[] {
    return [...this.byId.values()];
  }

  /** Learns from one line: it joins the closest template (generalizing it) or starts one. */
  learn(message: string): TemplateMatch {
    return this.matchOf(this.learnTokens(this.tokensOf(message)));
  }

  /** The template a line belongs to, without learning from it; null when no template is close enough. */
  match(message: string): TemplateMatch | null {
    const template = this.matchTokens(this.tokensOf(message));
    return template ? this.matchOf(template) : null;
  }

  private learnTokens(tokens: string[], leaf = this.leafFor(tokens)): LogTemplate {
    const best = this.closest(leaf, tokens);
    if (best && (best.score >= this.options.similarity || leaf.length >= this.options.maxTemplatesPerLeaf)) {
      best.template.tokens = best.template.tokens.map((token, i) => (token === tokens[i] ? token : PARAMETER));
      best.template.count += 1;
      return best.template;
    }
    const created: LogTemplate = { id: this.freshId(tokens), tokens, count: 1 };
    this.place(created);
    return this.mergeWordVariants(created, leaf);
  }

  /**
   * A new template alike its elders of the leaf but for one word, where each holds a word or a
   * parameter, joins them once the words there are wordValuesForParameter or more (or one of them
   * already holds a parameter there): the oldest keeps its id, and the position becomes a parameter.
   * The ids merged away are kept as aliases of the one that took them.
   */
  private mergeWordVariants(template: LogTemplate, leaf: LogTemplate[]): LogTemplate {
    let current = template;
    for (let position = 0; position < current.tokens.length; position += 1) {
      const token = current.tokens[position]!;
      if (token === PARAMETER || !isWord(token)) continue;
      const family = leaf.filter((t) => t === current || (alikeBut(t.tokens, current.tokens, position) && (t.tokens[position] === PARAMETER || isWord(t.tokens[position]!))));
      const general = family.find((t) => t.tokens[position] === PARAMETER);
      if (!general && family.length < this.options.wordValuesForParameter) continue;
      const survivor = general ?? family[0]!;
      survivor.tokens = survivor.tokens.map((t, i) => (i === position ? PARAMETER : t));
      for (const other of family) {
        if (other === survivor) continue;
        survivor.count += other.count;
        leaf.splice(leaf.indexOf(other), 1);
        this.byId.delete(other.id);
        this.aliases.set(other.id, survivor.id);
      }
      current = survivor;
    }
    return current;
  }

  /** The template an id names now, following the ids merged away. */
  private resolve(id: string): LogTemplate {
    let current = id;
    for (let alias = this.aliases.get(current); alias !== undefined; alias = this.aliases.get(current)) current = alias;
    return this.byId.get(current)!;
  }

  private matchTokens(tokens: readonly string[], leaf = this.leafFor(tokens)): LogTemplate | null {
    const best = this.closest(leaf, tokens);
    return best && best.score >= this.options.similarity ? best.template : null;
  }

  /**
   * Every line's signature, once all of them have been learnt: a template seen varying late still
   * groups the lines that came before. One result per input line, in order.
   */
  mineAll(messages: readonly string[]): TemplateMatch[] {
    const tokenized = messages.map((message) => this.tokensOf(message));
    // A leaf is routed to once per line: merges change its templates in place, never the leaf.
    const leaves = tokenized.map((tokens) => this.leafFor(tokens));
    const learnt = tokenized.map((tokens, i) => this.learnTokens(tokens, leaves[i]));
    // Many lines end in one template: its text is joined once.
    const matches = new Map<LogTemplate, TemplateMatch>();
    return tokenized.map((tokens, i) => {
      const template = this.matchTokens(tokens, leaves[i]) ?? this.resolve(learnt[i]!.id);
      let match = matches.get(template);
      if (!match) matches.set(template, (match = this.matchOf(template)));
      return match;
    });
  }

  private tokensOf(message: string): string[] {
    const tokens: string[] = [];
    for (const token of tokenize(maskMessage(message.slice(0, this.options.maxMessageChars)))) {
      const masked = maskToken(token);
      // A run of values is one value: `10.0.0.1, 10.0.0.2` and `10.0.0.1` are the same event.
      if (masked !== PARAMETER || tokens[tokens.length - 1] !== PARAMETER) tokens.push(masked);
    }
    return tokens.length > 0 ? tokens : [''];
  }

  private routingKey(tokens: readonly string[]): string {
    // Drain routes parameters (and tokens with digits) through one wildcard branch, so a value in a leading position does not split a template;
    // so are tokens that look like names of things (hosts, paths, addresses: `a.b`, `a/b`, `a@b`).
    return tokens
      .slice(0, this.options.routingTokens)
      .map((token) => (token === PARAMETER || /\d|\w[.:/\\@]\w|<\*>/.test(token) ? PARAMETER : token))
      .join('\u0000');
  }

  private leafFor(tokens: readonly string[]): LogTemplate[] {
    let byKey = this.leaves.get(tokens.length);
    if (!byKey) this.leaves.set(tokens.length, (byKey = new Map()));
    const key = this.routingKey(tokens);
    let leaf = byKey.get(key);
    if (!leaf) byKey.set(key, (leaf = []));
    return leaf;
  }

  private place(template: LogTemplate): void {
    this.leafFor(template.tokens).push(template);
    this.byId.set(template.id, template);
  }

  /**
   * The most similar template of the leaf: the most tokens held (a parameter holds any token), then
   * the most parameters (the more general), then the older. Counting a parameter as held while
   * learning keeps a generalized template attracting its lines, instead of spawning near-copies.
   */
  private closest(leaf: readonly LogTemplate[], tokens: readonly string[]): { template: LogTemplate; score: number } | null {
    let best: { template: LogTemplate; score: number; parameters: number } | null = null;
    for (const template of leaf) {
      let equal = 0;
      let parameters = 0;
      for (let i = 0; i < tokens.length; i += 1) {
        const token = template.tokens[i];
        if (token === PARAMETER) {
          parameters += 1;
          equal += 1;
        } else if (token === tokens[i]) equal += 1;
        else if (isWord(token!) && isWord(tokens[i]!) && !tokens[i - 1]?.endsWith('=')) {
          equal = -1;
          break;
        }
      }
      if (equal < 0) continue;
      const score = equal / tokens.length;
      if (!best || score > best.score || (score === best.score && parameters > best.parameters)) best = { template, score, parameters };
    }
    return best;
  }

  private freshId(tokens: readonly string[]): string {
    let id = templateId(tokens);
    // Two templates born alike (the same tokens in another leaf cannot be, but a loaded state may hold anything): the id stays unique.
    for (let n = 1; this.byId.has(id); n += 1) id = templateId([...tokens, String(n)]);
    return id;
  }

  private matchOf(template: LogTemplate): TemplateMatch {
    return { id: template.id, template: template.tokens.join(' ') };
  }
}

/**
 * The signature of one line on its own: the miner's masking and tokenization, and the id a miner
 * gives a template born from that line. A single line cannot be generalized by learning, so this is
 * what every miner would make of it first: an incident's error and a deploy watch's log lines get
 * the same id for the same masked line.
 */
export function signatureOf(line: string): TemplateMatch {
  return new LogTemplateMiner().learn(line);
}
