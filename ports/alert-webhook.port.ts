/** Where the local monitor evaluator sends its transitions: Steward's own Datadog webhook. */
export interface AlertWebhookPort {
  /**
   * Posts one transition's body; resolves with the 2xx status it was taken with, and fails with
   * ERROR_TYPES.alertWebhookUndelivered (retryable, the status in its details) otherwise.
   */
  post(payload: Record<string, string>): Promise<{ status: number }>;
}
