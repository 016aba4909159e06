import { startFakeSlack } from '../test/support/fake-slack-server';
import { slackRejectReasonModal } from './slack-reject-modal';

describe('the reject-reason modal, against a loopback Slack Web API', () => {
  it('opens with the click\'s trigger id and carries the incident id for the submission', async () => {
    const slack = await startFakeSlack();
    try {
      slack.answerNext({ ok: true, view: { id: 'V1' } });
      await slackRejectReasonModal({ botToken: 'xoxb-test', apiUrl: slack.apiUrl }).open('12345.98765.abcd', 'incident-4401001-c1');

      expect(slack.calls).toHaveLength(1);
      expect(slack.calls[0]).toMatchObject({ url: '/api/views.open', authorization: 'Bearer xoxb-test' });
      const args = slack.calls[0]!.args;
      const view = (typeof args.view === 'string' ? JSON.parse(args.view) : args.view) as Record<string, unknown>;
      expect(args.trigger_id).toBe('12345.98765.abcd');
      expect(view).toMatchObject({ type: 'modal', callback_id: 'steward_reject_reason', private_metadata: 'incident-4401001-c1' });
      expect(JSON.stringify(view.blocks)).toContain('"action_id":"reason_input"');

      slack.answerNext({ ok: false, error: 'expired_trigger_id' });
      await expect(slackRejectReasonModal({ botToken: 'xoxb-test', apiUrl: slack.apiUrl }).open('old', 'x')).rejects.toThrow('expired_trigger_id');
    } finally {
      await slack.close();
    }
  });
});
