/**
 * Whether spans carry content: prompts, answers, tool inputs and outputs. They can hold production
 * data (the alert's logs, the service's code), so it is off unless the deployment opts in
 * (STEWARD_TRACE_CONTENT). Like OpenTelemetry's own tracer provider, it is one setting for the
 * process, set once at start by the composition root; every span writer asks it.
 */
let recordContent = false;

export function setTraceContentRecording(on: boolean): void {
  recordContent = on;
}

export function traceContentRecorded(): boolean {
  return recordContent;
}
