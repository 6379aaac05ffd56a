// The alert-webhook job (a rule on the service's bus for the cost-alert detail-types; in-process locally): delivers
// one alert to its org's webhook. A run that fails after its own tries throws, so the rule's target retries it and
// finally files it in the job's dead-letter queue. It never runs on the metering path: the stream only publishes.

import type { EventBridgeEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import type { AlertNotice } from '../../shared/domain/alert-webhooks';
import { webhookDeliveryDependencies } from '../../shared/webhook-composition';
import { deliverAlert, WEBHOOK_ALERT_TYPES, type DeliveryDependencies } from '../../shared/use-cases/alert-webhooks';
import { loggedRun } from './logged-run';

const alertEvent = z.object({
  'detail-type': z.enum(WEBHOOK_ALERT_TYPES),
  time: z.string(),
  detail: z.looseObject({ eventId: z.string(), orgId: z.string() }),
});

export async function deliverAlertEvent(event: Pick<EventBridgeEvent<string, unknown>, 'detail-type' | 'time' | 'detail'>, deps: DeliveryDependencies): Promise<void> {
  const parsed = alertEvent.parse(event);
  const notice: AlertNotice = { detailType: parsed['detail-type'], time: parsed.time, detail: parsed.detail };
  await loggedRun(async () => {
    const delivery = await deliverAlert(notice, deps);
    return { job: 'alert-webhook', handled: delivery.outcome === 'no_webhook' ? 0 : 1, ...delivery };
  });
}

export async function handler(event: Pick<EventBridgeEvent<string, unknown>, 'detail-type' | 'time' | 'detail'>): Promise<void> {
  await deliverAlertEvent(event, webhookDeliveryDependencies());
}
