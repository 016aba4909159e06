import { isStewardBranch, stewardPullRequestMarks } from './steward-branch';

describe('stewardPullRequestMarks', () => {
  it("reads the incident from the body's marker, else from the branch, and the finding signatures the body quotes", () => {
    const body = 'Found by Steward\'s nightly QA: Nightly QA: crash (qa-0123456789abcdef). Opened by Steward for incident `incident qa/1`; again qa-0123456789abcdef and qa-fedcba9876543210.';
    expect(stewardPullRequestMarks({ branch: 'steward/incident-qa-1', body })).toEqual({ incidentId: 'incident qa/1', signatures: ['qa-0123456789abcdef', 'qa-fedcba9876543210'] });
    expect(stewardPullRequestMarks({ branch: 'steward/incident-7', body: 'edited by hand' })).toEqual({ incidentId: 'incident-7', signatures: [] });
  });

  it('gives a revert no incident, and no marks to a branch that is not Steward\'s', () => {
    expect(stewardPullRequestMarks({ branch: 'steward/revert-0123456789ab', body: 'Opened by Steward for deploy watch `watch-1`.' })).toEqual({ incidentId: null, signatures: [] });
    expect(stewardPullRequestMarks({ branch: 'fix/steward/incident-7', body: 'qa-0123456789abcdef' })).toBeNull();
    expect(isStewardBranch('steward/')).toBe(false);
    expect(isStewardBranch('stewardship/x')).toBe(false);
  });
});
