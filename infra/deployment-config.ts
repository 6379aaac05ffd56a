// The deployment's settings, read once from CDK context (`cdk.json` or `-c key=value`) and checked: a bad value
// stops the synth with the key at fault instead of producing a half-right template.

import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();

const contextSchema = z.object({
  /** `prod` keeps the table, bucket and secrets when the stack is deleted and turns on deletion protection. */
  stage: z.enum(['dev', 'prod']).default('dev'),
  /** The identity provider whose JWTs sign humans in (the dashboard routes); required once such routes exist. */
  jwtIssuer: z.url().optional(),
  jwtAudience: z.string().min(1).optional(),
  /** Alarm notifications go to this address, if given (subscribe later in the SNS console otherwise). */
  alarmEmail: z.email().optional(),
  /** Steady-state requests per second and burst across the whole API stage. */
  apiRateLimit: positiveInt.default(1000),
  apiBurstLimit: positiveInt.default(2000),
  logRetentionDays: positiveInt
    .refine((days) => Object.values(RetentionDays).includes(days), 'must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)')
    .default(30),
  /** How long monthly exports are kept (finance records: seven years by default). */
  exportRetentionDays: positiveInt.refine((days) => days > 365, 'must be more than 365 (exports move to Glacier Instant Retrieval after a year)').default(2557),
  /** Accounts with the default concurrency quota (10) cannot reserve any: set this to false there. */
  reserveConcurrency: z.preprocess((value) => (value === 'false' ? false : value === 'true' ? true : value), z.boolean()).default(true),
  /** Transaction conflicts per 5 minutes that raise the alarm (the service retries them; a storm means a hot org). */
  transactionConflictAlarmThreshold: positiveInt.default(100),
});

export type DeploymentConfig = z.infer<typeof contextSchema> & {
  /** Prefix of every resource name: `cu-ledger-<stage>`. */
  readonly prefix: string;
};

const CONTEXT_KEYS = Object.keys(contextSchema.shape) as (keyof typeof contextSchema.shape)[];

/** A context value the deployment cannot use; the message names each key at fault, on one line. */
export class InvalidContextError extends Error {
  override readonly name = 'InvalidContextError';
}

/** Reads every setting through `read` (a construct's `tryGetContext`) and validates them together. */
export function deploymentConfig(read: (key: string) => unknown): DeploymentConfig {
  const raw = Object.fromEntries(CONTEXT_KEYS.map((key) => [key, read(key)]).filter(([, value]) => value !== undefined));
  const parsed = contextSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `context "${issue.path.join('.')}": ${issue.message}`);
    throw new InvalidContextError(`Invalid CDK ${problems.join('; ')} (set it in cdk.json or with -c key=value).`);
  }
  return { ...parsed.data, prefix: `cu-ledger-${parsed.data.stage}` };
}
