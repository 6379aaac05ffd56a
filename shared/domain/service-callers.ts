// Which IAM callers may act as the platform's backend. On AWS the service routes admit any principal of the account
// that holds execute-api:Invoke; as defence in depth the deployment names the backend's IAM roles, and the handlers
// refuse every other caller. A role signs as an STS session: API Gateway hands the Lambda
// `arn:<partition>:sts::<account>:assumed-role/<role name>/<session>`, which names the role by account and name only
// (never its path), so that is what a listed role ARN is matched on.

/** An IAM role as far as a caller's assumed-role ARN can show it. */
export interface IamRole {
  readonly partition: string;
  readonly accountId: string;
  readonly name: string;
}

/** The roles the platform's backend runs as, or `any`: no list configured (the local runner, an unlisted deployment). */
export type ServiceCallers = 'any' | readonly IamRole[];

const PARTITION = '(aws|aws-cn|aws-us-gov)';
const ACCOUNT = '(\\d{12})';
/** IAM's own rule for role names: 1 to 64 of these. */
const ROLE_NAME = '([\\w+=,.@-]{1,64})';
/** A path is `/`, or printable ASCII between slashes (IAM's rule); the ARN drops its leading slash. */
const ROLE_ARN = new RegExp(`^arn:${PARTITION}:iam::${ACCOUNT}:role/(?:[\\x21-\\x7e]{1,510}/)?${ROLE_NAME}$`);
/** A session name has no slash; what it holds is the caller's choice, so any other character is let through. */
const ASSUMED_ROLE_ARN = new RegExp(`^arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/${ROLE_NAME}/[^/]+$`);

/** The role an IAM role ARN (`arn:aws:iam::<12 digits>:role/<optional path/><name>`) names; undefined for anything else. */
export function parseRoleArn(arn: string): IamRole | undefined {
  const match = ROLE_ARN.exec(arn);
  return match ? { partition: match[1]!, accountId: match[2]!, name: match[3]! } : undefined;
}

/** The role behind an STS assumed-role ARN; undefined for an IAM user, a root, a federated user or anything else. */
export function assumedRoleOf(callerArn: string): IamRole | undefined {
  const match = ASSUMED_ROLE_ARN.exec(callerArn);
  return match ? { partition: match[1]!, accountId: match[2]!, name: match[3]! } : undefined;
}

/**
 * Whether the caller the gateway verified may act as the platform's backend: with a list, only a session of a
 * listed role (same partition and account; the name compared without case, since IAM refuses two role names that
 * differ only in case); without one, any caller.
 */
export function isServiceCaller(callerArn: string, callers: ServiceCallers): boolean {
  if (callers === 'any') return true;
  const role = assumedRoleOf(callerArn);
  if (!role) return false;
  return callers.some(
    (listed) => listed.partition === role.partition && listed.accountId === role.accountId && listed.name.toLowerCase() === role.name.toLowerCase(),
  );
}
