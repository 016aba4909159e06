import { z } from 'zod';
import { FILE_CLASSES } from '../../domain/deploy-triage/changed-files';

/** What the model says of the files the rules could not place. */
export const FileClassesAnswer = z.object({
  files: z.array(
    z.object({
      path: z.string().min(1).describe('the path exactly as listed'),
      fileClass: z.enum(FILE_CLASSES).describe('runtime: runs in production or changes what runs; prompt_config; test; docs; ci'),
      reason: z.string().min(1),
    }),
  ),
});
export type FileClassesAnswer = z.infer<typeof FileClassesAnswer>;

export const CausalLinkAnswer = z.object({
  file: z.string().min(1).describe('path of the changed file, as in the diff'),
  line: z.number().int().positive().describe('line number of the cited line: in the new file for an added line, in the old file for a removed line'),
  side: z.enum(['new', 'old']).describe('new: an added (+) line; old: a removed (-) line'),
  lineText: z.string().nullable().describe('the cited line as the diff shows it, without the +/- marker'),
  signature: z.string().min(1).describe('id of the flagged error this line explains'),
  function: z.string().nullable().describe('the function the line sits in, or null at top level'),
  symbols: z.array(z.string().min(1)).max(20).describe('identifiers the explanation depends on, each as written in the code at the revision'),
});
export type CausalLinkAnswer = z.infer<typeof CausalLinkAnswer>;

/** The model's answer for one deploy: a verdict, and the line that grounds it when there is one. */
export const DeployLinkAnswer = z.object({
  verdict: z.enum(['caused', 'not_caused', 'uncertain']),
  confidence: z.number().min(0).max(1),
  reasoning: z.string().min(1),
  link: CausalLinkAnswer.nullable().describe('the changed line that explains a flagged error; null when this diff holds none'),
  attributedSignatures: z.array(z.string()).describe('ids of the flagged errors this deploy explains'),
});
export type DeployLinkAnswer = z.infer<typeof DeployLinkAnswer>;

const revision = z.string().trim().min(1).max(200);

/** The activity's input, checked at its boundary: the workflow assembles it from the watch and the deploy store. */
export const DeployTriageInput = z.object({
  /** The deploy watch's workflow id: its model calls are accounted and budgeted under it. */
  watchId: z.string().min(1),
  service: z.string().min(1),
  revision,
  /** Latest first: the deploy under watch, then the ones before it (as many as the lookback). */
  diffs: z
    .array(
      z.object({
        revision,
        previousRevision: revision.nullable(),
        /** Absent: the triage reads the diff through code search (previous..revision, or the revision's own commit), so a large diff never passes through the workflow's history. */
        diffText: z.string().optional(),
      }),
    )
    .min(1, 'diffs must hold at least the diff of the deploy under watch'),
  flagged: z
    .array(
      z.object({
        signature: z.string().min(1),
        template: z.string(),
        sample: z.object({ message: z.string(), stackTrace: z.string().nullable() }),
        baselineCount: z.number().int().nonnegative(),
        afterCount: z.number().int().nonnegative(),
      }),
    )
    .min(1, 'flagged must hold at least one signature: with none there is nothing to attribute'),
  /** The services file's path inside the repository, when it lives there. */
  servicesFilePath: z.string().nullable().optional(),
});
export type DeployTriageInput = z.input<typeof DeployTriageInput>;
