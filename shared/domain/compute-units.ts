// Compute Units as money: the API speaks decimal CU with at most 3 places, everything inside is integer milli-CU.

export const MILLI_PER_CU = 1000;
/** The largest single amount or cap the API accepts: far above any real job, far below 2^53 milli-CU. */
export const MAX_CU = 1_000_000_000;

/** Integer milli-CU. A plain number at runtime; the alias documents the unit at every boundary. */
export type MilliCu = number;

/** True when `cu` is a finite number with no more than three decimal places. */
export function hasAtMostThreeDecimals(cu: number): boolean {
  return Number.isFinite(cu) && Math.round(cu * MILLI_PER_CU) / MILLI_PER_CU === cu;
}

/** Decimal CU (already validated to 3 places) to integer milli-CU. */
export function toMilli(cu: number): MilliCu {
  return Math.round(cu * MILLI_PER_CU);
}

/** Integer milli-CU to decimal CU; exact because every milli amount below 2^53 divides cleanly to 3 places. */
export function toCu(milli: MilliCu): number {
  return milli / MILLI_PER_CU;
}
