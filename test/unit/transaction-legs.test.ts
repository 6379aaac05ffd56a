import { describe, expect, it } from 'vitest';
import { orgKey } from '../../shared/adapters/dynamodb/ledger-table';
import { transactItems, type TransactionLeg } from '../../shared/adapters/dynamodb/transaction-legs';
import { UpdateExpressionBuilder } from '../../shared/adapters/dynamodb/update-expression';

const bumpVersion = (): TransactionLeg<string> => ({
  role: 'team',
  key: orgKey('acme'),
  write: { update: new UpdateExpressionBuilder().add('configVersion', 1).build() },
  condition: { name: 'orgUnchanged', values: { ':configVersion': 7 } },
});

describe('transaction legs', () => {
  it('refuses an update and a condition that give one placeholder two values', () => {
    // The update adds :configVersion = 1; the condition expects :configVersion = 7. Merged, one would win silently.
    expect(() => transactItems('table', [bumpVersion()])).toThrow(/placeholder :configVersion means two things/);
  });

  it('bumps the config version beside a condition on the expected one', () => {
    const leg: TransactionLeg<string> = { ...bumpVersion(), write: { update: new UpdateExpressionBuilder().bumpConfigVersion().build() } };
    const [item] = transactItems('table', [leg]);
    expect(item?.Update).toMatchObject({
      UpdateExpression: 'ADD #configVersionStep :configVersionStep',
      ConditionExpression: '#configVersion = :configVersion',
      ExpressionAttributeNames: { '#configVersionStep': 'configVersion', '#configVersion': 'configVersion' },
      ExpressionAttributeValues: { ':configVersionStep': 1, ':configVersion': 7 },
    });
  });

  it('refuses two legs with one role: a cancelled transaction is read back by role', () => {
    const check = (role: string): TransactionLeg<string> => ({ role, key: orgKey('acme'), write: { check: true }, condition: { name: 'itemExists' } });
    expect(() => transactItems('table', [check('org'), check('org')])).toThrow(/two transaction legs share the role org/);
    expect(transactItems('table', [check('org'), check('other')])).toHaveLength(2);
  });
});
