import { describe, expect, it } from 'vitest';
import { API_AREAS } from '../../infra/api-routes';
import { createLocalApi } from '../../infra/local/api-gateway';
import { EVERY_KIND } from '../infra/fixtures/registries';

describe('local gateway', () => {
  it('serves the service routes of today', () => {
    expect(() => createLocalApi({ areas: API_AREAS, serviceToken: 'token' })).not.toThrow();
  });

  it('refuses routes whose auth it cannot stand in for, instead of serving them with the service token', () => {
    expect(() => createLocalApi({ areas: EVERY_KIND.areas, serviceToken: 'token' })).toThrow(/human auth \(usage\), analytics auth \(analytics\)/);
  });
});
