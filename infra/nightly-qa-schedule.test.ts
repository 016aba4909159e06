import { randomBytes } from 'node:crypto';
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { NIGHTLY_QA_WORKFLOW_TYPE, nightlyQaScheduleId } from '../contracts';
import { NIGHTLY_QA_DEFAULTS, type ServiceConfig, type ServicesConfig } from '../domain/service-config';
import { runNightlyQaNow } from '../use-cases/nightly-qa.use-case';
import { ensureNightlyQaSchedules, nightlyQaScheduleTrigger } from './nightly-qa-schedule';
import { testPolicy } from '../test/support/harness';

/** The nightly QA schedules on the run's Temporal dev server. */
describe('ensureNightlyQaSchedules', () => {
  let connection: Connection;
  let client: Client;
  const suffix = randomBytes(4).toString('hex');
  const service = `checkout-${suffix}`;
  const other = `billing-${suffix}`;
  const triggered = `payments-${suffix}`;
  const taskQueue = `test-nightly-${suffix}`;
  const config = (nightlyQa: Partial<ServiceConfig['nightlyQa']> = {}): ServiceConfig => ({
    repository: '/srv/checkout',
    defaultBranch: 'main',
    setupCommand: null,
    testCommand: 'npm test',
    buildCommand: null,
    singleTestCommand: 'npx jest {file}',
    reproductionDir: 'test',
    githubRepository: null,
    slackChannel: null,
    rollbackHook: null,
    nightlyQa: { ...NIGHTLY_QA_DEFAULTS, ...nightlyQa },
  });

  beforeAll(async () => {
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    client = new Client({ connection });
  });
  afterAll(async () => {
    for (const name of [service, other, triggered]) {
      await client.schedule
        .getHandle(nightlyQaScheduleId(name))
        .delete()
        .catch((error: unknown) => {
          if (!(error instanceof ScheduleNotFoundError)) throw error;
        });
    }
    await connection.close();
  });

  it('creates one schedule per service at 02:00 UTC with SKIP overlap, its catch-up window and the policy; a second start changes nothing', async () => {
    const services: ServicesConfig = { [service]: config(), [other]: config({ paused: true }) };
    const first = await ensureNightlyQaSchedules(client, services, taskQueue, testPolicy());
    expect(first.map((s) => [s.scheduleId, s.created, s.updated, s.paused])).toEqual([
      [`steward-nightly-qa@${service}`, true, false, false],
      [`steward-nightly-qa@${other}`, true, false, true],
    ]);
    expect((await ensureNightlyQaSchedules(client, services, taskQueue, testPolicy())).map((s) => [s.created, s.updated])).toEqual([
      [false, false],
      [false, false],
    ]);

    const described = await client.schedule.getHandle(nightlyQaScheduleId(service)).describe();
    expect(described.spec.timezone ?? 'UTC').toBe('UTC');
    expect(described.spec.calendars?.map((c) => [c.hour, c.minute])).toEqual([[[{ start: 2, end: 2, step: 1 }], [{ start: 0, end: 0, step: 1 }]]]);
    expect(described.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 3_600_000 });
    expect(described.state.paused).toBe(false);
    expect(described.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: NIGHTLY_QA_WORKFLOW_TYPE,
      taskQueue,
      workflowId: nightlyQaScheduleId(service),
      args: [{ service, policy: { budgetUsd: 5, missionBudgetUsd: 1, maxTurnsPerMission: 20, maxMissions: 6, notifyQuietNights: false, timeZone: 'UTC' } }],
    });
    const paused = await client.schedule.getHandle(nightlyQaScheduleId(other)).describe();
    expect(paused.state).toMatchObject({ paused: true, note: `paused by the services file (${other}.nightlyQa.paused)` });
  });

  it('updates a schedule whose cron, zone, budget or pause changed in the services file, and only that one', async () => {
    const services: ServicesConfig = { [service]: config(), [other]: config({ paused: true }) };
    await ensureNightlyQaSchedules(client, services, taskQueue, testPolicy());
    const changed: ServicesConfig = { [service]: config({ cron: '30 4 * * 1-5', timeZone: 'Europe/Paris', budgetUsd: 2 }), [other]: config({ paused: true }) };
    expect((await ensureNightlyQaSchedules(client, changed, taskQueue, testPolicy())).map((s) => [s.service, s.updated])).toEqual([
      [service, true],
      [other, false],
    ]);
    const described = await client.schedule.getHandle(nightlyQaScheduleId(service)).describe();
    expect(described.spec.timezone).toBe('Europe/Paris');
    expect(described.spec.calendars?.map((c) => [c.hour, c.minute])).toEqual([[[{ start: 4, end: 4, step: 1 }], [{ start: 30, end: 30, step: 1 }]]]);
    expect(described.action.type === 'startWorkflow' && (described.action.args as Array<{ policy: { budgetUsd: number } }>)[0]!.policy.budgetUsd).toBe(2);

    const unpaused: ServicesConfig = { ...changed, [other]: config({ paused: false }) };
    expect((await ensureNightlyQaSchedules(client, unpaused, taskQueue, testPolicy())).map((s) => [s.service, s.updated])).toEqual([
      [service, false],
      [other, true],
    ]);
    expect((await client.schedule.getHandle(nightlyQaScheduleId(other)).describe()).state.paused).toBe(false);
  });

  it("the trigger that `qa run-now` and the demo use: no schedule is null, a paused one is triggered all the same and names the night it started", async () => {
    const schedules = nightlyQaScheduleTrigger(client);
    expect(await schedules.describe(nightlyQaScheduleId(`absent-${suffix}`))).toBeNull();
    expect(await runNightlyQaNow(schedules, `absent-${suffix}`)).toEqual({ outcome: 'no-schedule', scheduleId: nightlyQaScheduleId(`absent-${suffix}`) });

    await ensureNightlyQaSchedules(client, { [triggered]: config({ paused: true }) }, taskQueue, testPolicy());
    expect(await schedules.describe(nightlyQaScheduleId(triggered))).toEqual({ paused: true, recentWorkflowIds: [] });
    const result = await runNightlyQaNow(schedules, triggered);
    expect(result).toMatchObject({ outcome: 'started', scheduleId: nightlyQaScheduleId(triggered), paused: true });
    const workflowId = (result as { workflowId: string }).workflowId;
    expect(workflowId.startsWith(`${nightlyQaScheduleId(triggered)}-`)).toBe(true);
    expect(await schedules.describe(nightlyQaScheduleId(triggered))).toEqual({ paused: true, recentWorkflowIds: [workflowId] });
    // No worker polls this task queue: the night would wait for one forever.
    await client.workflow.getHandle(workflowId).terminate('test over');
  });
});
