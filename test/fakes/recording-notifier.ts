import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { Notification, NotifierPort } from '../../ports/notifier.port';

/**
 * NotifierPort that keeps what it delivered. It can be told to fail the next sends, as Slack does
 * when it is down, with the retryable NotifierFailed error a real adapter would raise.
 */
export class RecordingNotifier implements NotifierPort {
  readonly name = 'recording';
  readonly delivered: Notification[] = [];
  /** Every send call, failed ones included. */
  sendCalls = 0;
  private failuresLeft = 0;

  failNextSends(count: number): void {
    this.failuresLeft = count;
  }

  async send(notification: Notification): Promise<{ ref: string }> {
    this.sendCalls += 1;
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw stewardFailure(ERROR_TYPES.notifierFailed, `could not deliver ${notification.key}: the notifier is unavailable`);
    }
    this.delivered.push(structuredClone(notification));
    return { ref: `recording:${this.delivered.length}` };
  }

  readonly updates: { ref: string; notification: Notification }[] = [];

  async update(ref: string, notification: Notification): Promise<{ ref: string }> {
    this.updates.push({ ref, notification: structuredClone(notification) });
    return { ref };
  }

  async findDelivered(notification: Notification): Promise<{ ref: string } | null> {
    const index = this.delivered.findIndex((n) => n.key === notification.key);
    return index < 0 ? null : { ref: `recording:${index + 1}` };
  }
}
