/** A clock is injected wherever time matters, so tests can move it instead of sleeping. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

/** The later of two ISO timestamps: `updatedAt` must never go backwards, even when clocks disagree. */
export const laterOf = (a: string, b: string): string => (a > b ? a : b);
