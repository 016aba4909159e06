/**
 * What kind of file a deploy changed, decided by rules on its path. The deploy triage asks the model
 * only about the paths these rules leave unplaced (null), and clears a deploy that touches no
 * runtime file without asking it anything else.
 *
 * Dependency manifests, lockfiles and container definitions count as runtime: a bumped library or
 * base image changes the code that runs as surely as an edited source file, and is a common cause
 * of errors that start with a deploy. Everything else that configures rather than runs (YAML, JSON,
 * TOML, prompts, the services file) is prompt_config.
 */
import type { FilePatch } from '../unified-diff';

export const FILE_CLASSES = ['runtime', 'prompt_config', 'test', 'docs', 'ci'] as const;
export type FileClass = (typeof FILE_CLASSES)[number];

export interface ClassifiedFile {
  path: string;
  /** Null when no rule places the path: the model is asked. */
  fileClass: FileClass | null;
  /** The rule that placed it, or that none did: shown in the verdict's reasoning. */
  rule: string;
}

export interface ClassifyOptions {
  /** The services file's path inside the repository, when it lives there: configuration, whatever its extension. */
  servicesFilePath?: string | null;
}

const SOURCE_EXTENSIONS = new Set([
  'ts', 'tsx', 'mts', 'cts', 'js', 'jsx', 'mjs', 'cjs', 'py', 'go', 'java', 'rb', 'rs', 'kt', 'kts', 'cs', 'php', 'scala',
  'c', 'cc', 'cpp', 'cxx', 'h', 'hpp', 'swift', 'ex', 'exs', 'erl', 'clj', 'fs', 'vue', 'svelte', 'sql', 'proto', 'graphql', 'gql',
]);

const DOC_EXTENSIONS = new Set(['md', 'mdx', 'rst', 'adoc', 'asciidoc']);
const CONFIG_EXTENSIONS = new Set(['yaml', 'yml', 'json', 'jsonc', 'json5', 'toml', 'ini', 'cfg', 'conf', 'properties', 'prompt', 'j2', 'jinja', 'hbs', 'mustache']);

/** Files whose change alters what runs: the dependencies the code is built with, and the image it runs in. */
const RUNTIME_MANIFESTS = new Set([
  'package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb',
  'requirements.txt', 'pipfile', 'pipfile.lock', 'poetry.lock', 'pyproject.toml', 'setup.cfg', 'uv.lock',
  'go.mod', 'go.sum', 'cargo.toml', 'cargo.lock', 'gemfile', 'gemfile.lock', 'pom.xml', 'build.gradle', 'build.gradle.kts',
  'gradle.lockfile', 'composer.json', 'composer.lock', 'mix.exs', 'mix.lock', 'dockerfile', 'containerfile',
  '.nvmrc', '.node-version', '.python-version', '.ruby-version', '.tool-versions',
]);

/** Folders whose files are tests, wherever they sit in the tree. */
const TEST_FOLDERS = new Set(['test', 'tests', '__tests__', '__mocks__', 'spec', 'specs', 'testdata', 'e2e', '__snapshots__']);
const TEST_FILE_PATTERNS: { pattern: RegExp; rule: string }[] = [
  { pattern: /\.(test|spec)\.[^.]+$/i, rule: '*.test.* / *.spec.*' },
  { pattern: /_test\.(go|py|rb|exs?)$/i, rule: '*_test.go / *_test.py' },
  { pattern: /^test_.+\.py$/i, rule: 'test_*.py' },
  { pattern: /^conftest\.py$/i, rule: 'conftest.py' },
  { pattern: /(Test|Tests|IT)\.(java|kt|scala|cs)$/, rule: '*Test.java / *Tests.cs' },
  { pattern: /_spec\.rb$/i, rule: '*_spec.rb' },
  { pattern: /\.snap$/i, rule: '*.snap' },
  { pattern: /^(jest|vitest|karma|playwright|cypress)\.config\.[^.]+$/i, rule: 'test runner configuration' },
  { pattern: /^(pytest\.ini|tox\.ini|\.mocharc\..+)$/i, rule: 'test runner configuration' },
];

const CI_PATTERNS: { pattern: RegExp; rule: string }[] = [
  { pattern: /^\.github\//, rule: '.github/ (workflows, actions, repository settings)' },
  { pattern: /^\.gitlab-ci\.ya?ml$|^\.gitlab\//, rule: 'GitLab CI' },
  { pattern: /^\.circleci\//, rule: 'CircleCI' },
  { pattern: /(^|\/)Jenkinsfile$/, rule: 'Jenkinsfile' },
  { pattern: /^\.buildkite\//, rule: 'Buildkite' },
  { pattern: /^\.travis\.ya?ml$|^azure-pipelines\.ya?ml$|^bitbucket-pipelines\.ya?ml$|^\.drone\.ya?ml$|^appveyor\.ya?ml$/, rule: 'CI pipeline file' },
  { pattern: /^\.pre-commit-config\.ya?ml$|^\.husky\//, rule: 'commit hooks' },
];

const DOC_NAMES = /^(readme|license|licence|copying|changelog|changes|history|notice|authors|contributors|contributing|code_of_conduct|security|codeowners)(\.[^.]+)?$/i;
const DOC_FOLDERS = new Set(['docs', 'doc', 'documentation']);
const PROMPT_FOLDERS = new Set(['prompts', 'prompt']);

/** Forward slashes, no leading `./` or `/`: the form diffs print. */
export function normalizeRepoPath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/^\/+/, '');
}

/** The class the rules give one path, or null with the reason no rule placed it. */
export function classifyPath(rawPath: string, options: ClassifyOptions = {}): ClassifiedFile {
  const path = normalizeRepoPath(rawPath);
  const segments = path.split('/');
  const base = segments.at(-1) ?? '';
  const folders = segments.slice(0, -1).map((s) => s.toLowerCase());
  const extension = base.includes('.') ? base.slice(base.lastIndexOf('.') + 1).toLowerCase() : '';
  const placed = (fileClass: FileClass, rule: string): ClassifiedFile => ({ path, fileClass, rule });

  const services = options.servicesFilePath ? normalizeRepoPath(options.servicesFilePath) : null;
  if (services && path === services) return placed('prompt_config', 'the services file');

  // CI and tests first: a package.json or a YAML file under test/ or .github/ runs nothing in production.
  for (const { pattern, rule } of CI_PATTERNS) if (pattern.test(path)) return placed('ci', rule);
  const testFolder = folders.find((f) => TEST_FOLDERS.has(f));
  if (testFolder) return placed('test', `under ${testFolder}/`);
  for (const { pattern, rule } of TEST_FILE_PATTERNS) if (pattern.test(base)) return placed('test', rule);

  // Before docs: a prompt written in Markdown is still what the model is told.
  if (/\.prompt(\.[^.]+)?$/i.test(base)) return placed('prompt_config', '*.prompt.*');
  if (DOC_NAMES.test(base) && !SOURCE_EXTENSIONS.has(extension)) return placed('docs', 'README, LICENSE, CHANGELOG and the like');
  if (DOC_EXTENSIONS.has(extension)) return placed('docs', `*.${extension}`);
  const docFolder = folders.find((f) => DOC_FOLDERS.has(f));
  if (docFolder) return placed('docs', `under ${docFolder}/`);

  const lowerBase = base.toLowerCase();
  if (RUNTIME_MANIFESTS.has(lowerBase)) return placed('runtime', 'dependency manifest, lockfile or container image: it changes what runs');
  if (/^requirements[-_.\w]*\.(txt|in)$/i.test(base)) return placed('runtime', 'Python requirements: they change what runs');
  if (/^(dockerfile|containerfile)\.|\.dockerfile$/i.test(base)) return placed('runtime', 'container image definition: it changes what runs');
  if (/\.(csproj|fsproj|vbproj)$/i.test(base)) return placed('runtime', '.NET project file: it changes what runs');

  if (/^\.env(\..+)?$/i.test(base)) return placed('prompt_config', '.env file');
  const promptFolder = folders.find((f) => PROMPT_FOLDERS.has(f));
  if (promptFolder && !SOURCE_EXTENSIONS.has(extension)) return placed('prompt_config', `under ${promptFolder}/`);
  if (CONFIG_EXTENSIONS.has(extension)) return placed('prompt_config', `*.${extension} configuration`);

  if (SOURCE_EXTENSIONS.has(extension)) return placed('runtime', extension === 'sql' ? 'SQL (migrations and queries)' : `*.${extension} source`);
  return { path, fileClass: null, rule: extension ? `no rule for *.${extension}` : 'no rule for a file without an extension' };
}

/**
 * Every file a diff changes, each once. A rename is placed by both of its paths, runtime winning: moving
 * a source file into a test folder still removes it from what runs.
 */
export function classifyPatches(patches: FilePatch[], options: ClassifyOptions = {}): ClassifiedFile[] {
  const byPath = new Map<string, ClassifiedFile>();
  for (const patch of patches) {
    const sides = [patch.newPath, patch.oldPath].filter((p): p is string => p !== null).map((p) => classifyPath(p, options));
    const chosen = sides.find((s) => s.fileClass === 'runtime') ?? sides[0]!;
    const path = normalizeRepoPath(patch.newPath ?? patch.oldPath!);
    if (!byPath.has(path)) byPath.set(path, { ...chosen, path });
  }
  return [...byPath.values()];
}
