// The shape of every error answer, as a schema for the OpenAPI document. A module of its own: the handlers import
// only its type (error-response.ts), so no Lambda bundle carries the schema (esbuild keeps an unused zod schema).

import * as z from 'zod/mini';

/**
 * A stable machine `code`, a message for people, the field at fault where there is one, and any facts the code names
 * (`capCu`, `refundableCu`, ...).
 */
export const errorBody = z.object({
  error: z.looseObject({ code: z.string(), message: z.string(), field: z.optional(z.string()) }),
});

export type ErrorBody = z.output<typeof errorBody>;
