/**
 * `--cases`: comma-separated terms, a case matching any of them. A term is a case id, a glob of
 * ids (`flapping-*`), `category:<name>` or `difficulty:<level>`.
 */
export interface FilterableCase {
  id: string;
  categories: readonly string[];
  difficulty: string;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

export function filterCases<C extends FilterableCase>(cases: readonly C[], filter: string | null): C[] {
  if (filter === null) return [...cases];
  const terms = filter.split(',').map((t) => t.trim()).filter(Boolean);
  if (terms.length === 0) throw new Error('--cases: the filter is empty');
  const matchers = terms.map((term): ((c: C) => boolean) => {
    if (term.startsWith('category:')) return (c) => c.categories.includes(term.slice('category:'.length));
    if (term.startsWith('difficulty:')) return (c) => c.difficulty === term.slice('difficulty:'.length);
    const pattern = globToRegExp(term);
    return (c) => pattern.test(c.id);
  });
  const chosen = cases.filter((c) => matchers.some((m) => m(c)));
  if (chosen.length === 0) throw new Error(`--cases ${filter}: no case matches`);
  return chosen;
}
