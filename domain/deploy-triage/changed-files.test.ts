import { parseUnifiedDiff } from '../unified-diff';
import { classifyPatches, classifyPath, FILE_CLASSES, type FileClass } from './changed-files';

describe('classifyPath', () => {
  const table: [string, FileClass | null][] = [
    // runtime source, in every language the rules know
    ['src/pricing.js', 'runtime'],
    ['src/server.ts', 'runtime'],
    ['lib/handler.mjs', 'runtime'],
    ['app/models/order.rb', 'runtime'],
    ['pricing/discount.py', 'runtime'],
    ['cmd/server/main.go', 'runtime'],
    ['src/main/java/com/acme/Pricing.java', 'runtime'],
    ['src/lib.rs', 'runtime'],
    ['Sources/App/Pricing.swift', 'runtime'],
    ['native/pricing.c', 'runtime'],
    ['native/pricing.h', 'runtime'],
    ['db/migrations/0042_add_coupon.sql', 'runtime'],
    // dependencies and the image change what runs
    ['package.json', 'runtime'],
    ['package-lock.json', 'runtime'],
    ['services/api/yarn.lock', 'runtime'],
    ['pnpm-lock.yaml', 'runtime'],
    ['go.sum', 'runtime'],
    ['requirements.txt', 'runtime'],
    ['requirements-prod.txt', 'runtime'],
    ['poetry.lock', 'runtime'],
    ['Cargo.lock', 'runtime'],
    ['Gemfile.lock', 'runtime'],
    ['pom.xml', 'runtime'],
    ['Dockerfile', 'runtime'],
    ['deploy/Dockerfile.prod', 'runtime'],
    ['api.dockerfile', 'runtime'],
    ['.nvmrc', 'runtime'],
    // tests
    ['test/pricing.test.js', 'test'],
    ['tests/test_pricing.py', 'test'],
    ['src/__tests__/pricing.js', 'test'],
    ['src/pricing.spec.ts', 'test'],
    ['src/pricing.test.ts', 'test'],
    ['pricing/discount_test.go', 'test'],
    ['pricing/test_discount.py', 'test'],
    ['conftest.py', 'test'],
    ['src/test/java/com/acme/PricingTest.java', 'test'],
    ['spec/models/order_spec.rb', 'test'],
    ['test/fixtures/package.json', 'test'],
    ['jest.config.js', 'test'],
    ['src/__snapshots__/view.test.ts.snap', 'test'],
    // docs
    ['README.md', 'docs'],
    ['docs/architecture.md', 'docs'],
    ['docs/requirements.txt', 'docs'],
    ['docs/diagram.png', 'docs'],
    ['LICENSE', 'docs'],
    ['CHANGELOG', 'docs'],
    ['guide/setup.rst', 'docs'],
    ['CODEOWNERS', 'docs'],
    // CI
    ['.github/workflows/ci.yml', 'ci'],
    ['.github/dependabot.yml', 'ci'],
    ['.gitlab-ci.yml', 'ci'],
    ['.circleci/config.yml', 'ci'],
    ['Jenkinsfile', 'ci'],
    ['.buildkite/pipeline.yml', 'ci'],
    ['azure-pipelines.yml', 'ci'],
    // prompts and configuration
    ['src/triage.prompt.md', 'prompt_config'],
    ['prompts/triage.txt', 'prompt_config'],
    ['src/triage.prompt.txt', 'prompt_config'],
    ['config/production.yaml', 'prompt_config'],
    ['settings.json', 'prompt_config'],
    ['tsconfig.json', 'prompt_config'],
    ['app.toml', 'prompt_config'],
    ['.env.example', 'prompt_config'],
    // left to the model
    ['scripts/entrypoint.sh', null],
    ['Makefile', null],
    ['public/logo.svg', null],
    ['templates/email.html', null],
  ];

  it.each(table)('%s is %s', (path, expected) => {
    expect(classifyPath(path).fileClass).toBe(expected);
  });

  it('places the services file as configuration, whatever its name', () => {
    expect(classifyPath('ops/services.js').fileClass).toBe('runtime');
    expect(classifyPath('ops/services.js', { servicesFilePath: './ops/services.js' })).toEqual({ path: 'ops/services.js', fileClass: 'prompt_config', rule: 'the services file' });
  });

  it('names the rule that placed a file, or that none did', () => {
    expect(classifyPath('package.json').rule).toMatch(/changes what runs/);
    expect(classifyPath('Makefile').rule).toBe('no rule for a file without an extension');
    expect(classifyPath('x/y.sh').rule).toBe('no rule for *.sh');
  });

  it('reads Windows separators and leading ./ as the same path', () => {
    expect(classifyPath('.\\test\\pricing.js')).toMatchObject({ path: 'test/pricing.js', fileClass: 'test' });
  });

  // fast-check is not installed here: a seeded generator walks many random paths instead.
  it('gives every path a known class or null, and is unchanged by a leading ./', () => {
    const random = seeded(42);
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-';
    const segment = () => Array.from({ length: 1 + Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    for (let run = 0; run < 2_000; run++) {
      const path = Array.from({ length: 1 + Math.floor(random() * 5) }, segment).join('/');
      const result = classifyPath(path);
      expect(result.fileClass === null || (FILE_CLASSES as readonly string[]).includes(result.fileClass)).toBe(true);
      expect(classifyPath(`./${path}`).fileClass).toBe(result.fileClass);
    }
  });

  it('calls any file under a test folder a test, whatever its language', () => {
    for (const folder of ['test', 'tests', '__tests__'])
      for (const extension of ['ts', 'py', 'go', 'java', 'rb', 'json', 'yaml', 'sql']) expect(classifyPath(`pkg/${folder}/helper.${extension}`).fileClass).toBe('test');
  });
});

/** mulberry32: a small seeded generator, so a failure is the same on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('classifyPatches', () => {
  it('classifies each file of a diff once, a deleted file by its old path and a rename by its runtime side', () => {
    const diff = [
      'diff --git a/src/old.js b/src/old.js',
      'deleted file mode 100644',
      'index 1111111..0000000',
      '--- a/src/old.js',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-module.exports = 1;',
      'diff --git a/src/moved.js b/test/moved.js',
      'similarity index 100%',
      'rename from src/moved.js',
      'rename to test/moved.js',
      'diff --git a/README.md b/README.md',
      'index 2222222..3333333 100644',
      '--- a/README.md',
      '+++ b/README.md',
      '@@ -1 +1 @@',
      '-old',
      '+new',
    ].join('\n');
    expect(classifyPatches(parseUnifiedDiff(diff)).map((f) => [f.path, f.fileClass])).toEqual([
      ['src/old.js', 'runtime'],
      ['test/moved.js', 'runtime'],
      ['README.md', 'docs'],
    ]);
  });
});
