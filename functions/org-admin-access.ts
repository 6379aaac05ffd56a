// The rule of the routes that the service and an org's admins share (analytics keys, finance exports, the alert
// webhook): the org of the path, once the caller is the service or one of that org's admins (anyone else: 403).

import * as z from 'zod/mini';
import type { Principal } from '../shared/domain/permissions';
import type { GatewayEvent } from '../shared/http/principal';
import { pathParameters, writeActor } from '../shared/http/request';
import { identifier } from '../shared/http/schemas';
import type { AdminStore } from '../shared/ports/admin-store';
import { keyAdministrator } from '../shared/use-cases/analytics-keys';

export const orgPath = z.object({ orgId: identifier });

export async function administeredOrg(event: GatewayEvent, deps: { readonly store: Pick<AdminStore, 'getScope'> }, principal: Principal | undefined): Promise<string> {
  const { orgId } = pathParameters(event, orgPath);
  // The same rule as the org's analytics keys: the service, or an org admin of this org.
  await keyAdministrator(principal!, orgId, principal!.kind === 'service' ? writeActor(event).actingUserId : undefined, deps);
  return orgId;
}
