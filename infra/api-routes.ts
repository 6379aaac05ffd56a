// Every HTTP route of the service and the area Lambda that serves it: the one list the local runner serves and
// the CDK stack will wire to API Gateway.

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { adminRoutes, handler as adminHandler } from '../functions/admin/admin.handler';
import { handler as meterHandler, meterRoutes } from '../functions/meter/meter.handler';

export type LambdaHttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export interface ApiArea {
  readonly name: string;
  /** The handler module, relative to the repository root (the bundling entry). */
  readonly entry: string;
  readonly handler: LambdaHttpHandler;
  readonly routeKeys: readonly string[];
  /** Who may call: `service` is the platform's backend (IAM on AWS, a bearer token locally). */
  readonly auth: 'service';
}

export const API_AREAS: readonly ApiArea[] = [
  { name: 'meter', entry: 'functions/meter/meter.handler.ts', handler: meterHandler, routeKeys: Object.keys(meterRoutes), auth: 'service' },
  { name: 'admin', entry: 'functions/admin/admin.handler.ts', handler: adminHandler, routeKeys: Object.keys(adminRoutes), auth: 'service' },
];
