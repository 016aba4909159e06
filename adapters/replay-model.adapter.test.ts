import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEMO_TRANSCRIPT_PATH } from '../config/config';
import { ERROR_TYPES } from '../contracts';
import type { ConversationRequest, ModelRequest } from '../ports/model.port';
import { demoTranscriptSteps } from '../test/fakes/scripted-model';
import { ReplayModel } from './replay-model.adapter';

const request = (step: string): ModelRequest => ({
  incidentId: 'incident-4401001-demo-cycle',
  step,
  system: 'system prompt',
  prompt: 'prompt',
  responseFormat: { name: 'TriageResult', jsonSchema: {} },
});

const conversation = (step: string): ConversationRequest => ({
  incidentId: 'incident-4401001-demo-cycle',
  step,
  system: 'system prompt',
  messages: [{ role: 'user', content: 'Fix the failing test.' }],
  tools: [{ name: 'read_file', description: 'Reads a file.', inputSchema: { type: 'object' } }],
});

describe('ReplayModel', () => {
  let scratch: string;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'replay-model-'));
  });

  afterAll(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  function writeFile(name: string, content: string): string {
    const file = path.join(scratch, name);
    fs.writeFileSync(file, content);
    return file;
  }

  it('serves each recorded step as the JSON of its response', async () => {
    const model = new ReplayModel(DEMO_TRANSCRIPT_PATH);

    const triage = await model.complete(request('triage'));
    const fix = await model.complete(request('fix.attempt-2'));

    expect(JSON.parse(triage.text)).toEqual(demoTranscriptSteps().triage);
    expect(JSON.parse(fix.text)).toEqual(demoTranscriptSteps()['fix.attempt-2']);
    expect(triage).toMatchObject({ provider: 'replay', model: 'scripted demo transcript', usage: { inputTokens: 0, outputTokens: 0 } });
    expect(model.label).toBe('scripted demo transcript');
  });

  it('serves a recorded string as the raw text the model wrote', async () => {
    const raw = 'Here you go:\n```json\n{"approve": true}\n```';
    const file = writeFile('raw.json', JSON.stringify({ kind: 'steward-model-transcript', label: 'raw', provenance: 'test', steps: { 'review.attempt-1': { response: raw } } }));

    await expect(new ReplayModel(file).complete(request('review.attempt-1'))).resolves.toMatchObject({ text: raw });
  });

  it('fails a step it does not hold with ModelRecordingMissing, non-retryable, naming the step and the transcript', async () => {
    const failure = await new ReplayModel(DEMO_TRANSCRIPT_PATH).complete(request('fix.attempt-3')).catch((error: unknown) => error);

    expect(failure).toMatchObject({ type: ERROR_TYPES.modelRecordingMissing, nonRetryable: true });
    const { message } = failure as Error;
    expect(message).toContain('"fix.attempt-3"');
    expect(message).toContain(DEMO_TRANSCRIPT_PATH);
    expect(message).toContain(`it holds: ${Object.keys(demoTranscriptSteps()).join(', ')}.`);
  });

  it('serves a recorded conversation turn, asking for tools when it holds tool calls and ending the turn when not', async () => {
    const toolCalls = [{ id: 'toolu_1', name: 'read_file', input: { path: 'src/pricing.js' } }];
    const file = writeFile(
      'turns.json',
      JSON.stringify({
        kind: 'steward-model-transcript',
        label: 'turns',
        provenance: 'test',
        steps: {
          'fix.attempt-1.turn-1': { response: { text: 'Reading it.', toolCalls } },
          'fix.attempt-1.turn-2': { response: { text: 'Done.', toolCalls: [] } },
        },
      }),
    );
    const model = new ReplayModel(file);

    await expect(model.converse(conversation('fix.attempt-1.turn-1'))).resolves.toEqual({
      text: 'Reading it.',
      toolCalls,
      stopReason: 'tool_use',
      provider: 'replay',
      model: 'turns',
      usage: { inputTokens: 0, outputTokens: 0 },
    });
    await expect(model.converse(conversation('fix.attempt-1.turn-2'))).resolves.toMatchObject({ text: 'Done.', toolCalls: [], stopReason: 'end_turn' });
  });

  it("serves every conversation turn of the demo transcript, as the demo's fix agent asks for them", async () => {
    const model = new ReplayModel(DEMO_TRANSCRIPT_PATH);
    const turns = Object.entries(demoTranscriptSteps()).filter(([step]) => /\.turn-\d+$/.test(step));

    expect(turns.length).toBeGreaterThan(0);
    for (const [step, recorded] of turns) {
      await expect(model.converse(conversation(step))).resolves.toMatchObject({ ...(recorded as object), provider: 'replay' });
    }
  });

  it('fails a conversation step it does not hold with ModelRecordingMissing, as for complete', async () => {
    const failure = await new ReplayModel(DEMO_TRANSCRIPT_PATH).converse(conversation('fix.attempt-3.turn-1')).catch((error: unknown) => error);

    expect(failure).toMatchObject({ type: ERROR_TYPES.modelRecordingMissing, nonRetryable: true });
    expect((failure as Error).message).toContain('"fix.attempt-3.turn-1"');
    expect((failure as Error).message).toContain(DEMO_TRANSCRIPT_PATH);
  });

  it('refuses, naming the step and the file, a recording that is not a conversation turn', async () => {
    const file = writeFile(
      'not-a-turn.json',
      JSON.stringify({ kind: 'steward-model-transcript', label: 'x', provenance: 'test', steps: { 'fix.attempt-1.turn-1': { response: { text: 'hi', tool_calls: [] } } } }),
    );

    const failure = await new ReplayModel(file).converse(conversation('fix.attempt-1.turn-1')).catch((error: unknown) => error);

    expect(failure).toMatchObject({ type: ERROR_TYPES.modelRecordingMissing, nonRetryable: true });
    expect((failure as Error).message).toContain(`The replay model's recording for step "fix.attempt-1.turn-1" (incident incident-4401001-demo-cycle) in ${file} is not a conversation turn`);
    expect((failure as Error).message).toContain('toolCalls');
  });

  it('refuses, naming the file, JSON that is not a transcript', () => {
    const file = writeFile('alert.json', fs.readFileSync(path.join(path.dirname(DEMO_TRANSCRIPT_PATH), 'alert.json'), 'utf8'));

    expect(() => new ReplayModel(file)).toThrow(`The model transcript ${file} is not a Steward transcript`);
  });

  it('refuses, naming the file, a file that is not JSON or does not exist', () => {
    const notJson = writeFile('notes.txt', 'triage: real, P2');
    const missing = path.join(scratch, 'missing.json');

    expect(() => new ReplayModel(notJson)).toThrow(`The model transcript ${notJson} could not be read`);
    expect(() => new ReplayModel(missing)).toThrow(new RegExp(`The model transcript ${missing} could not be read: .*ENOENT`));
  });
});
