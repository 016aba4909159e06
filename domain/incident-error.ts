import type { NormalizedAlert } from './alert';
import { signatureOf } from './log-template-miner';

/** The first line of a log or sample is what it is grouped by: the rest is stack and context (as the deploy watch groups). */
export function firstLineOf(text: string): string {
  return (text.split('\n').find((line) => line.trim() !== '') ?? '').trim();
}

/** The template miner's id of a log's first line, learned alone: the same text gets the same id in every process. */
export function logLineSignature(message: string): string {
  return signatureOf(firstLineOf(message)).id;
}

/**
 * The error signatures an incident claims, by the road its alert came by. A regression claims the
 * deploy watch's signature and its sample's own, and a failed build its log's; a monitor's alert
 * claims the signature of its text and that of the error its logs hold most (`logSignatures`, most
 * frequent first). The sample's and the logs' signatures are learned alone (logLineSignature), so a
 * regression and a monitor on the same error meet on one id whichever miner first saw it.
 */
export function signaturesToClaim(alert: NormalizedAlert, alertSignature: string, logSignatures: readonly string[]): string[] {
  const signatures = alert.regression
    ? [alert.regression.signature, alert.regression.sampleSignature]
    : alert.buildFailure
      ? [alert.buildFailure.signature]
      : [alertSignature, ...logSignatures.slice(0, 1)];
  return [...new Set(signatures.filter((s) => s !== ''))];
}

/**
 * The signature a nightly QA finding claims: its test and its failure's first line as the template
 * miner reads it. The test's path is part of it, so that two findings failing with the same generic
 * assertion are not taken for one error; the same test failing the same way on another night is.
 */
export function nightlyQaSignature(reproduction: { testPath: string; expectedFailure: string }): string {
  return `nightly-qa:${reproduction.testPath}:${logLineSignature(reproduction.expectedFailure)}`;
}

/** Which road the alert came by, for the account a duplicate gives of its owner. */
export function claimSource(alert: NormalizedAlert): string {
  return alert.regression ? 'deploy_regression' : alert.buildFailure ? 'build_failure' : `monitor:${alert.monitorId}`;
}
