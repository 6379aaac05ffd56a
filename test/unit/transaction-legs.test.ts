import { describe, expect, it } from 'vitest';
import { orgKey } from '../../shared/adapters/dynamodb/ledger-table';
import { transactItems, type TransactionLeg } from '../../shared/adapters/dynamodb/transaction-legs';
import { UpdateExpressionBuilder } from '../../shared/adapters/dynamodb/update-expression';

const bumpVersion = (): TransactionLeg<string> => ({
  role: 'team',
  key: orgKey('acme'),
  write: { update: new UpdateExpressionBuilder().add('configVersion', 1).build() },
  condition: { name: 'orgUnchangedAndPoolFits', names: { '#used': 'used@x' }, values: { ':configVersion': 7, ':max': 10 } },
});

describe('transaction legs', () => {
  it('refuses an update and a condition that give one placeholder two values', () => {
    // The update adds :configVersion = 1; the condition expects :configVersion = 7. Merged, one would win silently.
    expect(() => transactItems('table', [bumpVersion()])).toThrow(/placeholder :configVersion means two things/);
  });

  it('refuses two legs with one role: a cancelled transaction is read back by role', () => {
    const check = (role: string): TransactionLeg<string> => ({ role, key: orgKey('acme'), write: { check: true }, condition: { name: 'itemExists' } });
    expect(() => transactItems('table', [check('org'), check('org')])).toThrow(/two transaction legs share the role org/);
    expect(transactItems('table', [check('org'), check('other')])).toHaveLength(2);
  });
});
