import { z } from 'zod';

/**
 * Error signatures by template mining, after Drain (He et al., ICWS 2017): a log line is split
 * into tokens, tokens that are plainly values (numbers, ids, addresses, paths with digits) are
 * masked, and the line is routed through a fixed-depth tree — by token count, then by its first
 * tokens — to a leaf whose templates it is compared with. A line close enough to a template joins
 * it, and the positions where the two differ become parameters (`<*>`): once a position has been
 * seen varying, it stays a parameter. Otherwise the line starts a template of its own.
 *
 * A template keeps the id it was born with, so a signature stays the same while its template
 * generalizes; the miner's state can be saved and loaded, so ids are stable across runs.
 *
 * This module is pure (no I/O); it reads nothing but what it is given.
 */

export const PARAMETER = '<*>';

export interface MinerOptions {
  /** How many leading tokens route a line below its length; Drain's depth minus two. */
  routingTokens: number;
  /** The share of a line's tokens a template must hold (a parameter holds any) for the line to join it: 0.85 groups best on average over loghub's 16 labelled samples (npm run bench:signatures). */
  similarity: number;
  /** Templates kept per leaf; beyond it, a new line joins its most similar template. */
  maxTemplatesPerLeaf: number;
  /** Longest message, in characters, that is mined; the rest is cut, with the cut recorded. */
  maxMessageChars: number;
}

export const DEFAULT_MINER_OPTIONS: MinerOptions = { routingTokens: 1, similarity: 0.85, maxTemplatesPerLeaf: 100, maxMessageChars: 4_000 };

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

export const MinerState = z.object({
  version: z.literal(1),
  options: z.object({ routingTokens: z.number().int().min(0), similarity: z.number().min(0).max(1), maxTemplatesPerLeaf: z.number().int().min(1), maxMessageChars: z.number().int().min(1) }),
  templates: z.array(z.object({ id: z.string().regex(/^[0-9a-f]{16}$/), tokens: z.array(z.string()), count: z.number().int().min(0) })),
});
export type MinerState = z.infer<typeof MinerState>;

/** Values that never name the kind of event: each becomes a parameter wherever it appears in a token. */
const MASKS: readonly RegExp[] = [
  /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, // UUIDs
  /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g, // ISO timestamps
  /\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g, // IPv4 addresses, with a port
  /\b[A-Za-z][\w-]*(?:\.[\w-]+)+:\d+\b/g, // host names with a port
  /\b0x[0-9a-f]+\b/gi, // hexadecimal numbers
  /\b[0-9a-f]*\d[0-9a-f]*[a-f][0-9a-f]*\b|\b[0-9a-f]*[a-f][0-9a-f]*\d[0-9a-f]*\b/gi, // hex ids mixing digits and a–f (hashes, request ids)
  /(?<![A-Za-z])[-+]?\d+(?:[.,:]\d+)*(?![A-Za-z])/g, // numbers, durations' digits, versions
];

/** Splits a message into tokens: on white space, and apart from `=`, `:` or `,` that end a word, so `key=value` varies in its value only. */
export function tokenize(message: string): string[] {
  const tokens: string[] = [];
  for (const word of message.trim().split(/\s+/)) {
    if (word.length === 0) continue;
    // Most words hold none of the separators: they skip the lookbehind split.
    if (!/[=:,]/.test(word)) tokens.push(word);
    else for (const token of word.split(/(?<==)|(?<=[^:\d]:)(?=[^:/\d])|(?<=,)(?=\S)/)) if (token.length > 0) tokens.push(token);
  }
  return tokens;
}

/** A token with its values masked; a token that was wholly a value is the parameter itself. */
export function maskToken(token: string): string {
  // Every mask needs a digit (UUIDs, hex ids, addresses, numbers, timestamps): a word without one is kept as it is.
  if (!/\d/.test(token)) return token;
  let masked = token;
  for (const mask of MASKS) masked = masked.replace(mask, PARAMETER);
  // `<*><*>` and `/<*>/<*>` say no more than one parameter.
  masked = masked.replace(/(?:<\*>)+/g, PARAMETER);
  return /^[^A-Za-z]*<\*>[^A-Za-z]*$/.test(masked) ? PARAMETER : masked;
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

  constructor(options: Partial<MinerOptions> = {}) {
    this.options = { ...DEFAULT_MINER_OPTIONS, ...options };
  }

  static fromState(state: unknown): LogTemplateMiner {
    const parsed = MinerState.parse(state);
    const miner = new LogTemplateMiner(parsed.options);
    for (const template of parsed.templates) miner.place({ ...template, tokens: [...template.tokens] });
    return miner;
  }

  state(): MinerState {
    return { version: 1, options: { ...this.options }, templates: [...this.byId.values()].map((t) => ({ id: t.id, tokens: [...t.tokens], count: t.count })) };
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

  private learnTokens(tokens: string[]): LogTemplate {
    const leaf = this.leafFor(tokens);
    const best = this.closest(leaf, tokens);
    if (best && (best.score >= this.options.similarity || leaf.length >= this.options.maxTemplatesPerLeaf)) {
      best.template.tokens = best.template.tokens.map((token, i) => (token === tokens[i] ? token : PARAMETER));
      best.template.count += 1;
      return best.template;
    }
    const created: LogTemplate = { id: this.freshId(tokens), tokens, count: 1 };
    this.place(created);
    return created;
  }

  private matchTokens(tokens: readonly string[]): LogTemplate | null {
    const best = this.closest(this.leafFor(tokens), tokens);
    return best && best.score >= this.options.similarity ? best.template : null;
  }

  /**
   * Every line's signature, once all of them have been learnt: a template seen varying late still
   * groups the lines that came before. One result per input line, in order.
   */
  mineAll(messages: readonly string[]): TemplateMatch[] {
    const tokenized = messages.map((message) => this.tokensOf(message));
    const learnt = tokenized.map((tokens) => this.learnTokens(tokens));
    return tokenized.map((tokens, i) => this.matchTokens(tokens) ?? this.byId.get(learnt[i]!.id)!).map((template) => this.matchOf(template));
  }

  private tokensOf(message: string): string[] {
    const tokens = tokenize(message.slice(0, this.options.maxMessageChars)).map(maskToken);
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
      }
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
