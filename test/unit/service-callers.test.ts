// The service-caller allow-list: a listed IAM role ARN admits the STS sessions of that role (account and name; paths
// never show in an assumed-role ARN), and nothing else; no list admits any caller. Read once from the environment.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assumedRoleOf, isServiceCaller, parseRoleArn, type IamRole } from '../../shared/domain/service-callers';
import { SERVICE_CALLER_ARNS_ENV, requirePrincipal, serviceCallersFromEnv } from '../../shared/http/principal';
import { serviceEvent } from '../support/api-events';

const backend = parseRoleArn('arn:aws:iam::123456789012:role/platform/backend/cu-ledger-caller')!;
const session = (role: string, account = '123456789012', name = 'i-0abc123') => `arn:aws:sts::${account}:assumed-role/${role}/${name}`;

describe('a role ARN', () => {
  it.each([
    ['a role', 'arn:aws:iam::123456789012:role/backend', { partition: 'aws', accountId: '123456789012', name: 'backend' }],
    ['a role with a path', 'arn:aws:iam::123456789012:role/platform/backend/cu-ledger-caller', { partition: 'aws', accountId: '123456789012', name: 'cu-ledger-caller' }],
    ['a role in China', 'arn:aws-cn:iam::123456789012:role/backend', { partition: 'aws-cn', accountId: '123456789012', name: 'backend' }],
    ['a role name with every character IAM allows', 'arn:aws:iam::123456789012:role/a+b=c,d.e@f_g-h', { partition: 'aws', accountId: '123456789012', name: 'a+b=c,d.e@f_g-h' }],
  ])('names its account and role: %s', (_name, arn, role) => {
    expect(parseRoleArn(arn)).toEqual(role);
  });

  it.each([
    ['an IAM user', 'arn:aws:iam::123456789012:user/backend'],
    ['an assumed-role session', session('backend')],
    ['an account of 11 digits', 'arn:aws:iam::12345678901:role/backend'],
    ['a region in an IAM ARN', 'arn:aws:iam:eu-west-1:123456789012:role/backend'],
    ['no role name', 'arn:aws:iam::123456789012:role/'],
    ['a role name of 65 characters', `arn:aws:iam::123456789012:role/${'r'.repeat(65)}`],
    ['a space in the name', 'arn:aws:iam::123456789012:role/my role'],
    ['an unknown partition', 'arn:aws-xx:iam::123456789012:role/backend'],
    ['a wildcard', 'arn:aws:iam::123456789012:role/*'],
    ['not an ARN', 'backend'],
  ])('is refused when it is %s', (_name, arn) => {
    expect(parseRoleArn(arn)).toBeUndefined();
  });
});

describe('a caller on the list', () => {
  it.each([
    ['a session of the listed role (its path never shows in the session ARN)', session('cu-ledger-caller'), true],
    ['a session of the listed role, its name in another case (IAM names ignore case)', session('CU-Ledger-Caller'), true],
    ['a session whose name holds an email', session('cu-ledger-caller', '123456789012', 'ops@example.com'), true],
    ['the same role name in another account', session('cu-ledger-caller', '210987654321'), false],
    ['another role of the account', session('cu-ledger-admin'), false],
    ['a role whose name starts like the listed one', session('cu-ledger-caller-2'), false],
    ['an IAM user of the account', 'arn:aws:iam::123456789012:user/cu-ledger-caller', false],
    ['the role ARN itself (a role only ever calls as a session)', 'arn:aws:iam::123456789012:role/platform/backend/cu-ledger-caller', false],
    ['the account root', 'arn:aws:iam::123456789012:root', false],
    ['a session in another partition', 'arn:aws-cn:sts::123456789012:assumed-role/cu-ledger-caller/s', false],
    ['a session ARN without a session name', 'arn:aws:sts::123456789012:assumed-role/cu-ledger-caller', false],
    ['a session ARN with an extra segment', `${session('cu-ledger-caller')}/extra`, false],
    ['malformed', 'cu-ledger-caller', false],
    ['empty', '', false],
  ])('%s: %s', (_name, callerArn, allowed) => {
    expect(isServiceCaller(callerArn, [backend])).toBe(allowed);
  });

  it('admits any caller, malformed or not, when no list is configured', () => {
    fc.assert(fc.property(fc.string(), (callerArn) => isServiceCaller(callerArn, 'any')));
  });

  it('admits a session exactly when a listed role has its partition, account and name', () => {
    const role = fc.record({ partition: fc.constantFrom('aws', 'aws-cn'), accountId: fc.constantFrom('111111111111', '222222222222'), name: fc.constantFrom('a', 'b', 'backend') });
    fc.assert(
      fc.property(fc.array(role, { maxLength: 3 }), role, fc.stringMatching(/^[\w+=,.@-]{2,64}$/), (listed: IamRole[], caller, sessionName) => {
        const arn = `arn:${caller.partition}:sts::${caller.accountId}:assumed-role/${caller.name}/${sessionName}`;
        expect(assumedRoleOf(arn)).toEqual(caller);
        const expected = listed.some((entry) => entry.partition === caller.partition && entry.accountId === caller.accountId && entry.name === caller.name);
        expect(isServiceCaller(arn, listed)).toBe(expected);
      }),
    );
  });
});

describe('the list in the environment', () => {
  it('is read as a JSON array of role ARNs; unset admits any caller', () => {
    expect(serviceCallersFromEnv({ [SERVICE_CALLER_ARNS_ENV]: JSON.stringify(['arn:aws:iam::123456789012:role/platform/backend/cu-ledger-caller']) })).toEqual([backend]);
    expect(serviceCallersFromEnv({})).toBe('any');
  });

  it.each([
    ['not JSON', 'arn:aws:iam::123456789012:role/a'],
    ['an empty list (it would admit no one, silently)', '[]'],
    ['a user ARN among roles', JSON.stringify(['arn:aws:iam::123456789012:role/a', 'arn:aws:iam::123456789012:user/b'])],
    ['not a list', JSON.stringify({ arn: 'arn:aws:iam::123456789012:role/a' })],
    ['empty', ''],
  ])('stops the function rather than admit anyone when it is %s', (_name, value) => {
    expect(() => serviceCallersFromEnv({ [SERVICE_CALLER_ARNS_ENV]: value })).toThrow(/SERVICE_CALLER_ARNS must be a JSON array of IAM role ARNs/);
  });

  it('refuses a verified IAM caller off the list with 403, and lets people through whatever the list', () => {
    const as = (callerArn: string) => serviceEvent('POST /v1/meter/consume', { callerArn });
    expect(() => requirePrincipal(as(session('cu-ledger-admin')), ['service'], [backend])).toThrow(expect.objectContaining({ code: 'service_caller_not_allowed' }));
    expect(requirePrincipal(as(session('cu-ledger-caller')), ['service'], [backend])).toEqual({ kind: 'service', id: session('cu-ledger-caller') });
    const person = serviceEvent('GET /v1/usage', { principal: false });
    const signedIn = { ...person, requestContext: { ...person.requestContext, authorizer: { jwt: { claims: { sub: 'alice', org_id: 'acme' } } } } } as typeof person;
    expect(requirePrincipal(signedIn, ['person'], [backend])).toEqual({ kind: 'person', orgId: 'acme', userId: 'alice' });
  });
});
