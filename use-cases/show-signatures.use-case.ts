import type { DeployRecord, MiningSpan, SignatureStorePort, SignatureSummary } from '../ports/signature-store.port';

/**
 * What the signature store holds for one service, for a person reading it (`steward signatures
 * --service`): its signatures with their counts, how far its error logs have been counted, and its
 * latest deploys with the verdicts their watches reached.
 */

/** The store's reads this needs; a reader gets no way to write. */
export type SignatureStateReader = Pick<SignatureStorePort, 'signatureSummaries' | 'miningSpan' | 'recentDeploys'>;

export interface SignatureStateView {
  service: string;
  mining: MiningSpan;
  /** The largest total first. */
  signatures: SignatureSummary[];
  /** Newest first. */
  deploys: DeployRecord[];
}

export async function showSignatures(store: SignatureStateReader, input: { service: string; deploys: number }): Promise<SignatureStateView> {
  const [mining, signatures, deploys] = await Promise.all([store.miningSpan(input.service), store.signatureSummaries(input.service), store.recentDeploys(input.service, input.deploys)]);
  return { service: input.service, mining, signatures, deploys };
}
