// The deployment's settings, read once from CDK context (`cdk.json` or `-c key=value`) and checked: a bad value
// stops the synth with the key at fault instead of producing a half-right template.

import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { parseRoleArn } from '../shared/domain/service-callers';
import { DEFAULT_ORG_CLAIM } from '../shared/http/principal';

const positiveInt = z.coerce.number().int().positive();
/** The identity provider's addresses: https only, or whoever sits on the path could hand the authorizer their own keys. */
const httpsUrl = (required?: string) =>
  z.url({ protocol: /^https$/, error: (issue) => (issue.input === undefined && required ? `is required: ${required}` : 'must be an https URL') });

/** `-c` hands a string: a JSON array (`["arn:…","arn:…"]`), or ARNs separated by commas (`cdk.json` may hold a real array). */
function roleArnList(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (!text.startsWith('[')) return text.split(',').map((arn) => arn.trim()).filter((arn) => arn !== '');
  try {
    return JSON.parse(text);
  } catch {
    return value;
  }
}

const ROLE_ARN_FORM = 'arn:aws:iam::<12-digit account>:role/<optional path/><name>';

const contextSchema = z.object({
  /** `prod` keeps the table, bucket and secrets when the stack is deleted and turns on deletion protection. */
  stage: z.enum(['dev', 'prod']).default('dev'),
  /**
   * The identity provider whose JWTs sign people in (the Analytics API's routes for people, always deployed): its
   * issuer (`iss`) and our audience (`aud`) in its tokens. Required: a deployment with no say over who signs people in
   * must not guess one.
   */
  jwtIssuer: httpsUrl('the issuer URL of the identity provider that signs people in'),
  jwtAudience: z.string({ error: 'is required: the audience (aud) the identity provider puts in tokens for CU Ledger' }).min(1, 'must not be empty'),
  /** Where the identity provider publishes its signing keys; `<jwtIssuer>/.well-known/jwks.json` unless set. */
  jwksUrl: httpsUrl().optional(),
  /** The token claim that names a person's org (the user is `sub`). */
  orgClaim: z.string().regex(/^[\w:./-]{1,128}$/, 'must be a claim name (letters, digits, _ : . / -)').default(DEFAULT_ORG_CLAIM),
  /**
   * The IAM roles the platform's backend calls the service routes as. IAM already admits only principals of the
   * account allowed execute-api:Invoke; the handlers then also refuse every caller that is not a session of one of
   * these roles (defence in depth). Optional: without it any such principal is the service, and the synth warns.
   * A role name holding a comma needs the JSON array form.
   */
  serviceCallerArns: z
    .preprocess(
      roleArnList,
      z
        .array(z.string().refine((arn) => parseRoleArn(arn) !== undefined, `must be an IAM role ARN: ${ROLE_ARN_FORM}`), {
          error: `must be a JSON array or a comma-separated list of IAM role ARNs (${ROLE_ARN_FORM})`,
        })
        .min(1, 'must name at least one IAM role ARN (leave it out to admit any IAM caller allowed execute-api:Invoke)'),
    )
    .optional(),
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
  /** `jwksUrl`, or the issuer's `/.well-known/jwks.json`. */
  readonly jwksUrl: string;
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
  const { jwtIssuer, jwksUrl } = parsed.data;
  return { ...parsed.data, prefix: `cu-ledger-${parsed.data.stage}`, jwksUrl: jwksUrl ?? `${jwtIssuer.replace(/\/+$/, '')}/.well-known/jwks.json` };
}
