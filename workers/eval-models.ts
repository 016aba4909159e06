import * as fs from 'node:fs';
import * as path from 'node:path';
import { priceOf } from '../activities/shared/metered-model';
import { AnthropicModel } from '../adapters/anthropic-model.adapter';
import { OpenAIModel } from '../adapters/openai-model.adapter';
import { RecordingModel } from '../adapters/recording-model.adapter';
import { ReplayModel } from '../adapters/replay-model.adapter';
import type { EvalModelSettings } from '../config/eval.config';
import type { EvalModelSource } from '../evals/runner/model-source';
import type { ModelPort } from '../ports/model.port';

/** A case's recording: evals/recordings/<suite>/<case>.json, in the replay provider's transcript format. */
export function recordingPath(recordingsDir: string, suite: string, caseId: string): string {
  return path.join(recordingsDir, suite, `${caseId}.json`);
}

/** The transcript's label and which repeats it holds (its steps are named r<k>.<step>). */
function readRecording(file: string): { label: string; repeats: Set<number> } {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { label?: unknown; steps?: Record<string, unknown> };
  const repeats = new Set(Object.keys(raw.steps ?? {}).flatMap((step) => (/^r(\d+)\./.exec(step) ? [Number(/^r(\d+)\./.exec(step)![1])] : [])));
  return { label: typeof raw.label === 'string' ? raw.label : '(unlabelled)', repeats };
}

/**
 * The answers of an eval run: recordings by default, which the output says test the harness and
 * no live model; or the live model --model names, optionally recording each case's answers.
 */
export function buildEvalModelSource(settings: EvalModelSettings, suite: string): EvalModelSource {
  if (settings.kind === 'replay') {
    const dir = path.join(settings.recordingsDir, suite);
    const labels = fs.existsSync(dir)
      ? [...new Set(fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => readRecording(path.join(dir, f)).label))].sort()
      : [];
    return {
      mode: 'replay',
      description: `replay of the recorded answers in ${dir} (${labels.length ? labels.map((l) => `"${l}"`).join(', ') : 'none recorded'}); recorded responses, not a live model`,
      forCase(suiteName, caseId, repeat) {
        const file = recordingPath(settings.recordingsDir, suiteName, caseId);
        if (!fs.existsSync(file)) return { notRun: `no recording of this case (${path.relative(process.cwd(), file)})` };
        const recording = readRecording(file);
        if (!recording.repeats.has(repeat)) return { notRun: `the recording holds repeats ${[...recording.repeats].sort().join(', ') || 'none'}, not ${repeat}` };
        return { model: new ReplayModel(file) };
      },
      costOf: () => null,
    };
  }
  const live: ModelPort =
    settings.provider === 'anthropic'
      ? new AnthropicModel({ apiKey: settings.apiKey!, model: settings.model, ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}) })
      : new OpenAIModel({ apiKey: settings.apiKey ?? 'not-needed', model: settings.model, provider: settings.provider, structuredOutput: settings.structuredOutput, ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}) });
  const label = `${settings.provider}:${settings.model}${settings.baseUrl ? ` at ${settings.baseUrl}` : ''}`;
  return {
    mode: 'live',
    description: `live model ${label}${settings.record ? `; answers recorded to ${path.join(settings.recordingsDir, suite)}` : ''}`,
    forCase(suiteName, caseId) {
      if (!settings.record) return { model: live };
      return { model: new RecordingModel(live, recordingPath(settings.recordingsDir, suiteName, caseId), `recorded eval run of ${label}`) };
    },
    finishedRepeat(suiteName, caseId, repeat) {
      if (!settings.record) return;
      const file = recordingPath(settings.recordingsDir, suiteName, caseId);
      const transcript: { steps: Record<string, unknown> } & Record<string, unknown> = fs.existsSync(file)
        ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { steps: Record<string, unknown> })
        : { kind: 'steward-model-transcript', label: `recorded eval run of ${label}`, provenance: `Recorded from ${label} by steward eval run --record.`, steps: {} };
      transcript.steps[`r${repeat}.done`] = { response: { recordedAt: new Date().toISOString() } };
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(transcript, null, 2)}\n`);
      fs.renameSync(`${file}.tmp`, file);
    },
    costOf(response) {
      const price = priceOf(settings.prices, response.model);
      return price ? (response.usage.inputTokens * price.inputPerMTok + response.usage.outputTokens * price.outputPerMTok) / 1_000_000 : null;
    },
  };
}
