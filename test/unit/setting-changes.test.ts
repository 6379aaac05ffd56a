// What counts as a change to a project's, member's or API key's settings: the activity log records exactly these.

import { describe, expect, it } from 'vitest';
import { UNSET, settingChanges, settingsAfter, type ScopeSettingsValues } from '../../shared/domain/setting-changes';

const member: ScopeSettingsValues = { name: null, capMilli: 3000, role: 'project_admin', adminOfProjectIds: ['web', 'app'], projectId: null };

describe('setting changes', () => {
  it('leaves what a PUT does not give as it is, and removes a cap given as null', () => {
    expect(settingsAfter(member, { capMilli: null })).toEqual({ ...member, capMilli: null });
    expect(settingsAfter(member, {})).toEqual(member);
  });

  it('finds no change in the same settings given again, nor in the same projects in another order or repeated', () => {
    const after = settingsAfter(member, { capMilli: 3000, role: 'project_admin', adminOfProjectIds: ['app', 'web', 'app'] });
    expect(after.adminOfProjectIds).toEqual(['web', 'app']);
    expect(settingChanges(member, after)).toEqual({});
  });

  it('names each setting that changed, before and after, and only those', () => {
    const after = settingsAfter(member, { role: 'contributor', adminOfProjectIds: [], capMilli: 3000, name: 'Ana' });
    expect(settingChanges(member, after)).toEqual({
      name: { before: null, after: 'Ana' },
      role: { before: 'project_admin', after: 'contributor' },
      adminOfProjectIds: { before: ['web', 'app'], after: [] },
    });
  });

  it('counts the changes of a new scope from nothing set: every setting it was given', () => {
    const project = settingsAfter({ ...UNSET }, { name: 'Website', capMilli: 0 });
    expect(settingChanges(UNSET, project)).toEqual({ name: { before: null, after: 'Website' }, capMilli: { before: null, after: 0 } });
  });
});
