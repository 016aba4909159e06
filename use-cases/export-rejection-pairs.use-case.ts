import { rejectionPairs, type RejectionPairs } from '../evals/reports/rejection-pairs';
import type { ApprovalOutcomesPort } from '../ports/approval-outcomes.port';

/** `steward report rejections`: the gate's rejections from the ledger, paired with the later fixes of the same errors (evals/reports/rejection-pairs.ts). */
export async function exportRejectionPairs(outcomes: ApprovalOutcomesPort): Promise<RejectionPairs> {
  const [rejections, fixes] = await Promise.all([outcomes.listRejections(), outcomes.listPullRequestFixesForRejectedErrors()]);
  return rejectionPairs(rejections, fixes);
}
