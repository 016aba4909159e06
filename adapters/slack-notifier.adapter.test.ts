import { composeMorningReport, renderMorningReport } from '../domain/nightly-qa/report';
import type { Notification } from '../ports/notifier.port';
import { startFakeSlack } from '../test/support/fake-slack-server';
import { slackBlockLimitViolations } from '../test/support/slack-block-limits';
import { SLACK_ACTION_IDS, SLACK_DEPLOY_ACTION_IDS, SlackNotifier } from './slack-notifier.adapter';

const prOpened: Notification = {
  key: 'incident-1:pr_opened',
  kind: 'pr_opened',
  incidentId: 'incident-1',
  service: 'checkout-service',
  title: 'Fix ready: checkout-service unhandled errors',
  text: 'A verified fix is open.',
  links: [
    { label: 'Pull request', url: 'https://code.example.test/acme/repo/pull/1' },
    { label: 'Run in Temporal', url: 'http://127.0.0.1:8233/namespaces/default/workflows/incident-1' },
  ],
};

const approvalRequested: Notification = {
  ...prOpened,
  key: 'incident-4401001-demo:approval_requested',
  kind: 'approval_requested',
  incidentId: 'incident-4401001-demo',
  title: 'Approval needed: checkout-service unhandled errors',
  links: [],
  approval: { incidentId: 'incident-4401001-demo', severity: 'P1', verdict: 'real', diffStat: '2 files changed, +13 -1', reproduction: "TypeError: Cannot read properties of undefined (reading 'percent')" },
};

const rollbackProposed: Notification = {
  key: 'deploy-checkout-service-abc123:rollback_proposed',
  kind: 'rollback_proposed',
  incidentId: 'deploy-checkout-service-abc123',
  service: 'checkout-service',
  title: 'Deploy abc123 of checkout-service raised errors',
  text: 'A high-severity spike since the deploy; the cause is not clear.',
  links: [],
  deployDecision: {
    watchId: 'deploy-checkout-service-abc123',
    offers: ['rollBack', 'fixForward'],
    severity: 'high: error rate ×12 on 30% of requests',
    summary: '*Flagged*: `TypeError: rate is undefined` new since the deploy (0 → 41)',
  },
};

/** A morning report as the night sends it (workflows/nightly-qa/morning-report.ts). */
const qaReport = composeMorningReport({
  service: 'checkout-service',
  night: '2026-12-01',
  nightId: 'steward-nightly-qa@checkout-service-2026-12-01T02:00:00Z',
  budgetUsd: 2,
  missionsRun: [
    {
      id: 'probe:src/coupon.js',
      kind: 'probe-least-explored',
      reason: 'never explored',
      costUsd: 0.6,
      areas: ['src/coupon.js'],
      findings: [{ missionId: 'probe:src/coupon.js', signature: 'qa-1', title: 'a 100% coupon makes the total < 0', testPath: 'test/coupon.qa.test.js', expectedFailure: 'AssertionError', incidentId: 'incident-qa-1', pullRequestUrl: 'https://code.example.test/acme/repo/pull/2', duplicateOf: null }],
      leads: [{ missionId: 'probe:src/coupon.js', title: 'slow total', detail: 'no failing test', areas: ['src/coupon.js'] }],
    },
  ],
  missionsSkipped: [{ id: 'probe:src/tax.js', kind: 'probe-least-explored', reason: 'never explored', skippedBecause: 'budget' }],
  previouslyExplored: new Set(),
});
const morningReport: Notification = {
  key: `${qaReport.nightId}:qa_morning_report`,
  kind: 'qa_morning_report',
  incidentId: qaReport.nightId,
  service: 'checkout-service',
  title: 'Nightly QA of checkout-service, night of 2026-12-01',
  text: renderMorningReport(qaReport),
  links: [{ label: 'PR: a 100% coupon makes the total < 0', url: 'https://code.example.test/acme/repo/pull/2' }],
  qaReport,
};

describe('SlackNotifier against a loopback Slack Web API', () => {
  let slack: Awaited<ReturnType<typeof startFakeSlack>>;
  let notifier: SlackNotifier;

  beforeEach(async () => {
    slack = await startFakeSlack();
    notifier = new SlackNotifier({ botToken: 'xoxb-test-token', channel: 'C-STEWARD', apiUrl: slack.apiUrl });
  });

  afterEach(async () => {
    await slack.close();
  });

  it('posts the notification to the channel as text and Block Kit, and returns the message reference', async () => {
    const { ref } = await notifier.send(prOpened);

    expect(ref).toBe('slack:C1:1700000000.000100');
    expect(slack.calls).toHaveLength(1);
    const [call] = slack.calls;
    expect(call).toMatchObject({ method: 'POST', url: '/api/chat.postMessage', authorization: 'Bearer xoxb-test-token' });
    expect(call!.args).toMatchObject({ channel: 'C-STEWARD', text: prOpened.title });
    expect(call!.args.blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: prOpened.title } },
      { type: 'section', text: { type: 'mrkdwn', text: prOpened.text } },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: '<https://code.example.test/acme/repo/pull/1|Pull request>' },
          { type: 'mrkdwn', text: '<http://127.0.0.1:8233/namespaces/default/workflows/incident-1|Run in Temporal>' },
        ],
      },
    ]);
  });

  it("posts the morning report in its own layout, with the report's whole text as the fallback, and rewrites it the same way", async () => {
    await notifier.send(morningReport);
    await notifier.update('slack:C-STEWARD:1700000000.000100', morningReport);

    const [posted, updated] = slack.calls;
    expect(posted).toMatchObject({ url: '/api/chat.postMessage', args: { channel: 'C-STEWARD', text: morningReport.text } });
    expect(updated).toMatchObject({ url: '/api/chat.update', args: { channel: 'C-STEWARD', ts: '1700000000.000100', text: morningReport.text } });
    for (const call of [posted!, updated!]) {
      const blocks = call.args.blocks as { type: string; text?: { text: string }; elements?: { text: string }[] }[];
      expect(slackBlockLimitViolations(blocks)).toEqual([]);
      expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: morningReport.title } });
      const texts = blocks.map((block) => block.text?.text ?? block.elements?.map((element) => element.text).join(' | '));
      expect(texts.slice(1)).toEqual([
        '*Findings* (each proven by a test that failed twice)\n• <https://code.example.test/acme/repo/pull/2|#2 a 100% coupon makes the total &lt; 0> — `test/coupon.qa.test.js`',
        '*Leads* (1; no failing test, so not opened)\n• *slow total*: no failing test',
        '*New coverage* (1): `src/coupon.js`\n*Already covered* (0): none',
        "*Missions skipped* (1)\n• `probe:src/tax.js`: the night's budget was spent",
        '*Cost* $0.60 of $2.00 budget | 1 mission(s) run | Night `steward-nightly-qa@checkout-service-2026-12-01T02:00:00Z`',
      ]);
    }
  });

  it('offers Approve and Reject buttons on an approval request, carrying the incident id', async () => {
    await notifier.send(approvalRequested);

    const blocks = slack.calls[0]!.args.blocks as Record<string, unknown>[];
    const actions = blocks.find((block) => block.type === 'actions');
    expect(actions).toEqual({
      type: 'actions',
      block_id: 'steward_decision_incident-4401001-demo',
      elements: [
        expect.objectContaining({ type: 'button', action_id: SLACK_ACTION_IDS.approve, value: 'incident-4401001-demo', text: { type: 'plain_text', text: 'Approve' } }),
        expect.objectContaining({ type: 'button', action_id: SLACK_ACTION_IDS.reject, value: 'incident-4401001-demo', text: { type: 'plain_text', text: 'Reject' } }),
      ],
    });
    expect(SLACK_ACTION_IDS).toEqual({ approve: 'steward_approve', reject: 'steward_reject' });
    expect(JSON.stringify(blocks)).toContain('2 files changed, +13 -1');
    expect(JSON.stringify(blocks)).toContain("reading 'percent'");
  });

  it('offers Roll back (danger), Fix forward (primary) and Dismiss on a proposed roll-back, carrying the watch id', async () => {
    await notifier.send(rollbackProposed);

    const blocks = slack.calls[0]!.args.blocks as Record<string, unknown>[];
    expect(blocks.find((block) => block.type === 'actions')).toEqual({
      type: 'actions',
      block_id: 'steward_deploy_decision_deploy-checkout-service-abc123',
      elements: [
        { type: 'button', style: 'danger', text: { type: 'plain_text', text: 'Roll back' }, action_id: 'steward_deploy_roll_back', value: 'deploy-checkout-service-abc123' },
        { type: 'button', style: 'primary', text: { type: 'plain_text', text: 'Fix forward' }, action_id: 'steward_deploy_fix_forward', value: 'deploy-checkout-service-abc123' },
        { type: 'button', text: { type: 'plain_text', text: 'Dismiss' }, action_id: 'steward_deploy_dismiss', value: 'deploy-checkout-service-abc123' },
      ],
    });
    expect(JSON.stringify(blocks)).toContain('error rate ×12 on 30% of requests');
    expect(JSON.stringify(blocks)).toContain('TypeError: rate is undefined');
    expect(JSON.stringify(blocks)).not.toContain(SLACK_ACTION_IDS.approve);
  });

  it('offers only what the watch offers, and always Dismiss', async () => {
    await notifier.send({ ...rollbackProposed, deployDecision: { ...rollbackProposed.deployDecision!, offers: ['rollBack'] } });

    const actions = (slack.calls[0]!.args.blocks as Record<string, unknown>[]).find((block) => block.type === 'actions') as { elements: { action_id: string }[] };
    expect(actions.elements.map((element) => element.action_id)).toEqual([SLACK_DEPLOY_ACTION_IDS.rollBack, SLACK_DEPLOY_ACTION_IDS.dismiss]);
  });

  it("marks each message with its outbox key, and finds it in the channel's history on a retry", async () => {
    await notifier.send(prOpened);
    const metadata = slack.calls[0]!.args.metadata;
    // Form-encoded calls carry nested values as JSON text; JSON calls carry them as objects.
    expect(typeof metadata === 'string' ? JSON.parse(metadata) : metadata).toEqual({
      event_type: 'steward_notification',
      event_payload: { key: prOpened.key, incident_id: prOpened.incidentId },
    });

    const history = (messages: Record<string, unknown>[]) => ({ ok: true, messages, has_more: false });
    const ours = { type: 'message', ts: '1700000000.000100', metadata: { event_type: 'steward_notification', event_payload: { key: prOpened.key } } };
    const another = { type: 'message', ts: '1700000000.000200', metadata: { event_type: 'steward_notification', event_payload: { key: 'incident-9:pr_opened' } } };
    slack.answerNext(history([another, ours, { type: 'message', ts: '1700000000.000300', text: 'a person talking' }]));
    await expect(notifier.findDelivered(prOpened)).resolves.toEqual({ ref: 'slack:C-STEWARD:1700000000.000100' });
    expect(slack.calls[1]).toMatchObject({ url: '/api/conversations.history' });
    expect(slack.calls[1]!.args).toMatchObject({ channel: 'C-STEWARD', include_all_metadata: expect.anything() });

    slack.answerNext(history([another]));
    await expect(notifier.findDelivered(prOpened)).resolves.toBeNull();
  });

  it('rewrites a delivered message in place, with no buttons left on it', async () => {
    await notifier.update('slack:C-STEWARD:1700000000.000100', { ...approvalRequested, kind: 'approval_decided', approval: undefined, title: 'Approved by slack:alice' });

    expect(slack.calls[0]).toMatchObject({ url: '/api/chat.update' });
    expect(slack.calls[0]!.args).toMatchObject({ channel: 'C-STEWARD', ts: '1700000000.000100', text: 'Approved by slack:alice' });
    expect(JSON.stringify(slack.calls[0]!.args.blocks)).not.toContain('steward_approve');
    await expect(notifier.update('console:incident-1:approval_requested', prOpened)).rejects.toThrow('not a Slack message reference');
  });

  it("posts to the service's own channel when it has one, and looks for earlier messages there", async () => {
    const routed = new SlackNotifier({ botToken: 'xoxb-test-token', channel: 'C-STEWARD', apiUrl: slack.apiUrl, channelsByService: { 'checkout-service': 'C-PAYMENTS' } });
    await routed.send(prOpened);
    await routed.send({ ...prOpened, service: 'search-service' });
    slack.answerNext({ ok: true, messages: [], has_more: false });
    await routed.findDelivered(prOpened);

    expect(slack.calls.map((call) => call.args.channel)).toEqual(['C-PAYMENTS', 'C-STEWARD', 'C-PAYMENTS']);
  });

  it('rejects when Slack answers ok: false', async () => {
    slack.answerNext({ ok: false, error: 'channel_not_found' });

    await expect(notifier.send(prOpened)).rejects.toMatchObject({
      message: expect.stringContaining('channel_not_found'),
      data: expect.objectContaining({ ok: false, error: 'channel_not_found' }),
    });
    await expect(notifier.send(prOpened)).resolves.toEqual({ ref: 'slack:C1:1700000000.000100' });
  });
});
