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

/** A lower-case DNS name of two labels or more: API Gateway refuses capitals and `_` in a custom domain name. */
const DOMAIN_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** An ACM certificate: `arn:<partition>:acm:<region>:<account>:certificate/<id>`; the region is the first group. */
export const CERTIFICATE_ARN = /^arn:aws(?:-cn|-us-gov)?:acm:([a-z]{2}(?:-[a-z]+)+-\d):\d{12}:certificate\/[A-Za-z0-9-]+$/;
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;

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
  /**
   * The usage dashboard's OIDC client at the identity provider: a public client (no secret; PKCE) whose redirect URI is
   * `<AnalyticsApiUrl>dashboard/callback` (or `https://<customDomainName>/dashboard/callback`). Its issuer is
   * `jwtIssuer` unless set; `dashboardAudience`, for providers that issue a JWT access token only when asked for an
   * audience (sent as `audience`), should then name `jwtAudience`.
   */
  dashboardClientId: z.string().regex(/^[\x21-\x7e]{1,256}$/, 'must be a client id (printable, no spaces)').default('cu-ledger-dashboard'),
  dashboardIssuer: httpsUrl().optional(),
  dashboardScope: z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, 'must be OAuth scopes separated by spaces').default('openid'),
  dashboardAudience: z.string().min(1).max(512).optional(),
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
  /**
   * One host for both APIs (`https://<customDomainName>/v1`), with the certificate that covers it (ACM, in the stack's
   * region). Both or neither: without them each API keeps its execute-api URL.
   */
  customDomainName: z.string().regex(DOMAIN_NAME, 'must be a lower-case domain name such as api.example.com').optional(),
  customDomainCertificateArn: z.string().regex(CERTIFICATE_ARN, 'must be an ACM certificate ARN: arn:aws:acm:<region>:<12-digit account>:certificate/<id>').optional(),
  /** The Route 53 hosted zone to put the domain's alias record in; without it, point your DNS at the stack's outputs. */
  customDomainHostedZoneId: z.string().regex(HOSTED_ZONE_ID, 'must be a Route 53 hosted zone id (Z...)').optional(),
}).superRefine((context, issues) => {
  const need = (key: keyof typeof context, message: string) => issues.addIssue({ code: 'custom', path: [key], message });
  if (context.customDomainName && !context.customDomainCertificateArn) need('customDomainCertificateArn', 'is required with customDomainName: the ACM certificate for that name');
  if (context.customDomainCertificateArn && !context.customDomainName) need('customDomainName', 'is required with customDomainCertificateArn: the domain the certificate is for');
  if (context.customDomainHostedZoneId && !context.customDomainName) need('customDomainName', 'is required with customDomainHostedZoneId: the domain to put in that zone');
});

/** The one host both APIs answer on, when the deployment names one. */
export interface CustomDomain {
  readonly name: string;
  readonly certificateArn: string;
  readonly hostedZoneId?: string;
}

export type DeploymentConfig = z.infer<typeof contextSchema> & {
  /** Prefix of every resource name: `cu-ledger-<stage>`. */
  readonly prefix: string;
  /** `jwksUrl`, or the issuer's `/.well-known/jwks.json`. */
  readonly jwksUrl: string;
  /** `dashboardIssuer`, or `jwtIssuer`. */
  readonly dashboardIssuer: string;
  /** The `customDomain*` values together, when set. */
  readonly customDomain: CustomDomain | undefined;
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
  const { jwtIssuer, jwksUrl, customDomainName, customDomainCertificateArn, customDomainHostedZoneId } = parsed.data;
  const customDomain =
    customDomainName && customDomainCertificateArn
      ? { name: customDomainName, certificateArn: customDomainCertificateArn, ...(customDomainHostedZoneId ? { hostedZoneId: customDomainHostedZoneId } : {}) }
      : undefined;
  return {
    ...parsed.data,
    prefix: `cu-ledger-${parsed.data.stage}`,
    jwksUrl: jwksUrl ?? `${jwtIssuer.replace(/\/+$/, '')}/.well-known/jwks.json`,
    dashboardIssuer: parsed.data.dashboardIssuer ?? jwtIssuer,
    customDomain,
  };
}
