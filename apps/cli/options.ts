import { z } from 'zod';

/** The embedded sandbox's requests per minute per user when `--sandbox-rate-limit` is not given (Cliniko's). */
export const DEFAULT_SANDBOX_RATE_LIMIT = 200;

/** Each command's options as commander hands them over, parsed before the command runs. */
export const RunOptions = z.object({
  config: z.string().optional(),
  mode: z.enum(['dry-run', 'live']),
  out: z.string().optional(),
  clinikoUrl: z.string().optional(),
  sandbox: z.boolean(),
  sandboxRateLimit: z.number().int().positive(),
  fresh: z.boolean().default(false),
  requireApproval: z.boolean(),
  inProcess: z.boolean(),
  stateDir: z.string().optional(),
  keepWork: z.boolean(),
  takeOver: z.boolean().default(false),
  yes: z.boolean().default(false),
});
export type RunOptions = z.infer<typeof RunOptions>;

export const GenerateOptions = z.object({
  patients: z.number().int().positive(),
  years: z.number().int().positive(),
  seed: z.number().int().nonnegative(),
  out: z.string(),
  clean: z.boolean(),
  documentsMb: z.number().int().nonnegative().optional(),
});
export type GenerateOptions = z.infer<typeof GenerateOptions>;

export const SandboxOptions = z.object({
  port: z.number().int().nonnegative(),
  shard: z.string(),
  rateLimit: z.number().int().nonnegative(),
  rateWindow: z.number().positive(),
  faults: z.string().optional(),
  faultSeed: z.number().int().nonnegative(),
  seed: z.string().optional(),
  apiKey: z.string().optional(),
  state: z.string().optional(),
});
export type SandboxOptions = z.infer<typeof SandboxOptions>;

export const StateDirOptions = z.object({ stateDir: z.string().optional() });

export const RunIdOptions = z.object({
  stateDir: z.string().optional(),
  stack: z.string().optional(),
  region: z.string().min(1).optional(),
  profile: z.string().min(1).optional(),
});
export const ApproveOptions = RunIdOptions.extend({ by: z.string().min(1) });
export type RunIdOptions = z.infer<typeof RunIdOptions>;
export type ApproveOptions = z.infer<typeof ApproveOptions>;
export const RollbackOptions = RunIdOptions.extend({
  dryRun: z.boolean(),
  force: z.boolean(),
  clinikoUrl: z.string().optional(),
  region: z.string().optional(),
  takeOver: z.boolean().default(false),
  yes: z.boolean().default(false),
  sandbox: z.boolean().default(false),
});
export type RollbackOptions = z.infer<typeof RollbackOptions>;
export const RedriveOptions = RunIdOptions.extend({ waitMinutes: z.number().int().positive() });
export type RedriveOptions = z.infer<typeof RedriveOptions>;
