// Small runtime ports: time and identifiers, injected so tests can pin them.

import { randomUUID } from 'node:crypto';

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  /** A public, unique id for a stored event. */
  eventId(): string;
  /** A private, random id for one processing attempt of a request. */
  attemptId(): string;
}

export const systemClock: Clock = { now: () => new Date() };

export const randomIds: IdGenerator = {
  eventId: () => `evt_${randomUUID().replaceAll('-', '')}`,
  attemptId: () => randomUUID(),
};
