import { decideDeployResponse, extraErrorsPerHour, regressionSeverity } from './deploy-response';

const spike = (afterPerHour: number) => [{ baselineCount: 168 * 10, baselineHours: 168, afterCount: afterPerHour / 6, afterHours: 1 / 6 }];

describe('decideDeployResponse', () => {
  it('counts the extra errors an hour over the baseline rate, never below zero', () => {
    expect(extraErrorsPerHour(spike(40))).toBeCloseTo(30);
    expect(extraErrorsPerHour(spike(5))).toBe(0);
  });

  it('grades severity by the increase and, when known, the share of requests', () => {
    expect(regressionSeverity(700, null)).toBe('P0');
    expect(regressionSeverity(10, 0.06)).toBe('P0');
    expect(regressionSeverity(100, null)).toBe('P1');
    expect(regressionSeverity(10, null)).toBe('P2');
    expect(regressionSeverity(1, 0.001)).toBe('P3');
  });

  it('fixes forward a confident attribution with a cited line, whatever the severity', () => {
    const decided = decideDeployResponse({ triage: { verdict: 'caused', confidence: 0.9, hasCitedLine: true }, flagged: spike(2000), affectedShare: null });
    expect(decided).toMatchObject({ action: 'fix_forward', severity: 'P0' });
  });

  it('rolls back a severe spike whose cause is uncertain or weakly attributed', () => {
    expect(decideDeployResponse({ triage: { verdict: 'uncertain', confidence: 0.4, hasCitedLine: false }, flagged: spike(200), affectedShare: null }).action).toBe('roll_back');
    expect(decideDeployResponse({ triage: { verdict: 'caused', confidence: 0.5, hasCitedLine: true }, flagged: spike(200), affectedShare: null }).action).toBe('roll_back');
  });

  it('reports a mild rise with no cited line, and fixes forward a mild one with a line', () => {
    expect(decideDeployResponse({ triage: { verdict: 'uncertain', confidence: 0.3, hasCitedLine: false }, flagged: spike(20), affectedShare: null }).action).toBe('report');
    expect(decideDeployResponse({ triage: { verdict: 'uncertain', confidence: 0.3, hasCitedLine: true }, flagged: spike(20), affectedShare: null }).action).toBe('fix_forward');
  });

  it('never acts on a rise the deploy did not cause', () => {
    expect(decideDeployResponse({ triage: { verdict: 'not_caused', confidence: 0.95, hasCitedLine: false }, flagged: spike(5000), affectedShare: 0.2 })).toMatchObject({ action: 'report', severity: 'P0' });
  });
});
