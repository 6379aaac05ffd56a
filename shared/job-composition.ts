// The jobs' composition root: the ledger's stores and clock, and where events are published. Apart from the
// API's (composition.ts) so that only the job functions bundle the EventBridge client.

import { createEventBridgeClient, eventBridgePublisher } from './adapters/eventbridge/event-publisher';
import { localEventPublisher, processDependencies } from './composition';
import type { EventPublisher } from './ports/event-publisher';
import { AlertMemory } from './use-cases/cost-alerts';
import type { StreamDependencies } from './use-cases/jobs';

/** Kept while the function's instance lives: projections it saw recorded need no second write. */
const alertMemory = new AlertMemory();

let bus: EventPublisher | undefined;

/** EventBridge when EVENT_BUS_NAME is set (on AWS), else the local runner's publisher. */
export function busPublisher(env: NodeJS.ProcessEnv = process.env): EventPublisher {
  if (env.EVENT_BUS_NAME) {
    bus ??= eventBridgePublisher(createEventBridgeClient(), env.EVENT_BUS_NAME);
    return bus;
  }
  const local = localEventPublisher();
  if (local) return local;
  throw new Error('No event publisher: set EVENT_BUS_NAME (AWS) or run under the local runner.');
}

/** What the jobs and the stream handler need: the job and rollup store, the clock, the publisher. */
export function jobDependencies(): StreamDependencies {
  const { store, clock } = processDependencies();
  return { store, clock, publisher: busPublisher(), alertMemory };
}
