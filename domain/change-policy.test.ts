import { changedPaths, protectedChanges, protectedPathReason } from './change-policy';

describe('change policy', () => {
  it('protects CI configuration, code owners and .git however the path is spelled', () => {
    for (const file of ['.github/workflows/ci.yml', './.github//workflows/../workflows/ci.yml', '.github/actions/setup/action.yml', '.gitlab-ci.yml', 'Jenkinsfile', '.circleci/config.yml', '.github/CODEOWNERS', '.git/config', '/.github/workflows/x.yml']) {
      expect([file, protectedPathReason(file)]).toEqual([file, expect.any(String)]);
    }
    for (const file of ['src/pricing.js', 'test/pricing.test.js', '.github/ISSUE_TEMPLATE.md', 'docs/workflows/ci.md', 'github/workflows/ci.yml']) {
      expect([file, protectedPathReason(file)]).toEqual([file, null]);
    }
  });

  it("reads a diff's paths, both names of a rename, and refuses the protected ones", () => {
    const diff = [
      'diff --git a/src/pricing.js b/src/pricing.js',
      '--- a/src/pricing.js',
      '+++ b/src/pricing.js',
      '@@ -1 +1 @@',
      '-a',
      '+b',
      'diff --git a/ci/old.yml b/.github/workflows/new.yml',
      'similarity index 100%',
      'rename from ci/old.yml',
      'rename to .github/workflows/new.yml',
      '',
    ].join('\n');
    expect(changedPaths(diff).sort()).toEqual(['.github/workflows/new.yml', 'ci/old.yml', 'src/pricing.js']);
    expect(protectedChanges(diff)).toEqual([{ path: '.github/workflows/new.yml', what: 'CI configuration (GitHub Actions workflow)' }]);
    expect(protectedChanges(diff.split('diff --git a/ci')[0]!)).toEqual([]);
  });
});
