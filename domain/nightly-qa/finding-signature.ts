import { sha256Hex } from '../../lib/sha256';

/**
 * The key a finding is deduped by against open incidents, open Steward PRs and monitor links: the
 * service and the failure the test shows, with what varies between two runs of the same bug (numbers,
 * hex ids, quoted values, whitespace) taken out, so that two nights proving the same bug with
 * differently named tests still meet. The test's path is left out on purpose: a second probe of the
 * same area writes its own file.
 * Hashed with lib/sha256.ts, not node:crypto: the night's workflow computes it, and a workflow may not import node:crypto.
 */
export function findingSignature(service: string, expectedFailure: string): string {
  const normalized = expectedFailure
    .toLowerCase()
    .replace(/0x[0-9a-f]+|\b[0-9a-f]{8,}\b/g, '<hex>')
    .replace(/-?\d+(\.\d+)?/g, '<n>')
    .replace(/(['"`]).*?\1/g, '<s>')
    .replace(/\s+/g, ' ')
    .trim();
  return `qa-${sha256Hex(`${service}\n${normalized}`).slice(0, 16)}`;
}

/** A signature as findingSignature writes it, wherever it is quoted (an incident's title, a PR's body, a monitor's message). */
const SIGNATURE_IN_TEXT = /qa-[0-9a-f]{16}/g;

/** The finding signatures the text quotes, each once, in the order they first appear. */
export function findingSignaturesIn(text: string): string[] {
  return [...new Set(text.match(SIGNATURE_IN_TEXT) ?? [])];
}

/** What the finding's signature is already known as, in the order checked; null when it is new. */
export function knownAs(
  signature: string,
  known: { openIncidents: Array<{ incidentId: string; signatures: string[] }>; openPullRequests: Array<{ url: string; body: string }>; monitorLinks: Array<{ monitorId: string; description: string }> },
): string | null {
  const incident = known.openIncidents.find((i) => i.signatures.includes(signature));
  if (incident) return `incident:${incident.incidentId}`;
  const pullRequest = known.openPullRequests.find((pr) => pr.body.includes(signature));
  if (pullRequest) return `pull-request:${pullRequest.url}`;
  const monitor = known.monitorLinks.find((m) => m.description.includes(signature));
  if (monitor) return `monitor:${monitor.monitorId}`;
  return null;
}
