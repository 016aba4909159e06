import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ConversationRequest, ConversationTurn, ModelPort, ModelRequest } from '../ports/model.port';
import { RecordingModel } from './recording-model.adapter';
import { ReplayModel } from './replay-model.adapter';

const request = (step: string): ModelRequest => ({ incidentId: 'incident-1', step, system: 's', prompt: 'p', responseFormat: { name: 'X', jsonSchema: {} } });
const conversation = (step: string): ConversationRequest => ({
  incidentId: 'incident-1',
  step,
  system: 's',
  messages: [{ role: 'user', content: 'p' }],
  tools: [{ name: 'read_file', description: 'Reads a file.', inputSchema: { type: 'object' } }],
});
const notConversing = async (): Promise<ConversationTurn> => Promise.reject(new Error('this test records no conversation'));

describe('record mode', () => {
  it('writes what the real model answered, step by step, into a transcript the replay model serves', async () => {
    const dir = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'record-'));
    const transcriptPath = path.join(dir, 'nested', 'transcript.json');
    const answers: Record<string, string> = { triage: '{"verdict":"real"}', 'fix.attempt-1': 'not json at all' };
    const live: ModelPort = {
      complete: async (r) => ({ text: answers[r.step]!, provider: 'anthropic', model: 'claude-test', usage: { inputTokens: 10, outputTokens: 5 } }),
      converse: notConversing,
    };
    const recorder = new RecordingModel(live, transcriptPath, 'incident-1 recorded');

    expect((await recorder.complete(request('triage'))).text).toBe('{"verdict":"real"}');
    await recorder.complete(request('fix.attempt-1'));

    const transcript = JSON.parse(fs.readFileSync(transcriptPath, 'utf8'));
    expect(transcript).toMatchObject({ kind: 'steward-model-transcript', label: 'incident-1 recorded', provenance: expect.stringContaining('anthropic model claude-test') });
    expect(transcript.steps).toEqual({ triage: { response: { verdict: 'real' } }, 'fix.attempt-1': { response: 'not json at all' } });
    const replay = new ReplayModel(transcriptPath);
    expect(JSON.parse((await replay.complete(request('triage'))).text)).toEqual({ verdict: 'real' });
    expect((await replay.complete(request('fix.attempt-1'))).text).toBe('not json at all');
    expect(fs.readdirSync(path.dirname(transcriptPath))).toEqual(['transcript.json']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records nothing for a request the real model failed', async () => {
    const dir = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'record-'));
    const transcriptPath = path.join(dir, 'transcript.json');
    const failing: ModelPort = { complete: async () => Promise.reject(new Error('503 from the provider')), converse: async () => Promise.reject(new Error('529 from the provider')) };
    await expect(new RecordingModel(failing, transcriptPath, 'x').complete(request('triage'))).rejects.toThrow('503');
    await expect(new RecordingModel(failing, transcriptPath, 'x').converse(conversation('fix.attempt-1.turn-1'))).rejects.toThrow('529');
    expect(fs.existsSync(transcriptPath)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records conversation turns under their step as the text and tool calls, which the replay model serves back', async () => {
    const dir = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'record-'));
    const transcriptPath = path.join(dir, 'transcript.json');
    const turns: Record<string, Omit<ConversationTurn, 'provider' | 'model' | 'usage'>> = {
      'fix.attempt-1.turn-1': {
        text: 'Reading it.',
        toolCalls: [
          { id: 'call_1', name: 'read_file', input: { path: 'src/pricing.js' } },
          // Arguments that were not JSON stay the string the model wrote, on replay too.
          { id: 'call_2', name: 'grep', input: "{'pattern': 'discount'" },
        ],
        stopReason: 'tool_use',
      },
      'fix.attempt-1.turn-2': { text: 'Done.', toolCalls: [], stopReason: 'end_turn' },
    };
    const live: ModelPort = {
      complete: async () => Promise.reject(new Error('this test records only conversations')),
      converse: async (r) => ({ ...turns[r.step]!, provider: 'openai', model: 'gpt-test', usage: { inputTokens: 10, outputTokens: 5 } }),
    };
    const recorder = new RecordingModel(live, transcriptPath, 'incident-1 recorded');

    expect(await recorder.converse(conversation('fix.attempt-1.turn-1'))).toMatchObject(turns['fix.attempt-1.turn-1']!);
    await recorder.converse(conversation('fix.attempt-1.turn-2'));

    const transcript = JSON.parse(fs.readFileSync(transcriptPath, 'utf8'));
    expect(transcript.provenance).toContain('openai model gpt-test');
    expect(transcript.steps).toEqual({
      'fix.attempt-1.turn-1': { response: { text: 'Reading it.', toolCalls: turns['fix.attempt-1.turn-1']!.toolCalls } },
      'fix.attempt-1.turn-2': { response: { text: 'Done.', toolCalls: [] } },
    });
    const replay = new ReplayModel(transcriptPath);
    for (const [step, turn] of Object.entries(turns)) {
      await expect(replay.converse(conversation(step))).resolves.toEqual({ ...turn, provider: 'replay', model: 'incident-1 recorded', usage: { inputTokens: 0, outputTokens: 0 } });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
