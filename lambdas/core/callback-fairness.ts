import { backoff } from './retry';

/**
 * Who may use the callback sender, and when. The sender is a few concurrent batches (the event source's
 * maximum concurrency) shared by every owner, and a batch lasts as long as its slowest delivery; so an owner
 * whose endpoint is slow or dead must not hold many of them:
 * - Fair share: one owner's callbacks are in at most SHARE_PER_OWNER batches at a time across the whole
 *   sender (a lease per batch on the owner's item, taken before posting); in a batch that has the lease they
 *   all go at once. In any other batch they wait in the queue, so the other batches stay free for the others;
 *   but while the owner's batches in flight are all younger than QUICK_ROUND_MS (its endpoint answers fast)
 *   a batch waits for a share to free, up to that long, instead of sending them back for seconds.
 * - Parking: an owner whose callbacks failed in PARK_AFTER_FAILURES or more rounds in a row (a round: its
 *   callbacks in one batch, none delivered) waits as long as one callback's retry would after that many
 *   failures; a round that delivers one ends it. When the wait is over, a round tries the endpoint again.
 * Waiting never spends a callback's attempts: it goes back to the queue as a new message that carries them.
 */
export const SHARE_PER_OWNER = 2;
export const PARK_AFTER_FAILURES = 3;
/** Attempts per callback; after the last fails it goes to the callbacks DLQ. */
export const MAX_ATTEMPTS = 8;
/** SendMessage delays a message 15 minutes at most; callback retries and parking back off as far. */
export const MAX_DELAY_SECONDS = 900;
/** A lease outlives any batch (the sender's Lambda timeout): a holder that died frees its share then. */
export const LEASE_SECONDS = 30;
/** Callbacks of an owner that has its share in flight come back after this. */
export const SHARE_WAIT_SECONDS = 2;
/** A batch of an owner whose endpoint answers within this waits for a share here, this long at most. */
export const QUICK_ROUND_MS = 1_000;

/** What the sender keeps per owner. */
export interface OwnerCallbackState {
  /** Rounds that failed in a row; a delivered callback resets it. */
  failures: number;
  /** When the last of them ended (epoch ms). */
  lastFailureAt: number;
  /**
   * Batches delivering the owner's callbacks: batch id → when it started (epoch ms); after LEASE_SECONDS it holds
   * nothing.
   */
  leases: Record<string, number>;
  /** Changed by every write to `leases`: a lease is taken only on the state it was planned from. */
  version: number;
}

export const NO_CALLBACK_STATE: OwnerCallbackState = { failures: 0, lastFailureAt: 0, leases: {}, version: 0 };

/** The delay before a callback's next attempt, after `attempt` failed: doubling from the base, at most 15 min. */
export const retryDelaySeconds = (baseSeconds: number, attempt: number): number =>
  backoff(baseSeconds, attempt, MAX_DELAY_SECONDS);

/** When a parked owner may be tried again (epoch ms), or undefined when it is not parked. */
export function parkedUntil(state: OwnerCallbackState, baseSeconds: number): number | undefined {
  if (state.failures < PARK_AFTER_FAILURES) return undefined;
  return state.lastFailureAt + retryDelaySeconds(baseSeconds, state.failures) * 1000;
}

/**
 * What one batch does with one owner's callbacks: deliver them all under a new lease, or let them all wait in
 * the queue; `soon` when the share may free within QUICK_ROUND_MS (worth asking again from here).
 */
export type OwnerPlan =
  | { deliver: true; leases: Record<string, number> }
  | { deliver: false; waitSeconds: number; reason: 'parked' }
  | { deliver: false; waitSeconds: number; reason: 'share'; soon: boolean };

export function planOwner(state: OwnerCallbackState, batchId: string, now: number, baseSeconds: number): OwnerPlan {
  const until = parkedUntil(state, baseSeconds);
  if (until !== undefined && until > now)
    return { deliver: false, waitSeconds: clampDelay((until - now) / 1000), reason: 'parked' };
  const live = Object.entries(state.leases).filter(([, started]) => now - started < LEASE_SECONDS * 1000);
  if (live.length >= SHARE_PER_OWNER) {
    const soon = live.every(([, started]) => now - started < QUICK_ROUND_MS);
    return { deliver: false, waitSeconds: SHARE_WAIT_SECONDS, reason: 'share', soon };
  }
  return { deliver: true, leases: { ...Object.fromEntries(live), [batchId]: now } };
}

const clampDelay = (seconds: number) => Math.min(MAX_DELAY_SECONDS, Math.max(1, Math.ceil(seconds)));

/**
 * A callback's attempt number: the attempts its earlier messages made (carried when it went back to the
 * queue) plus this message's receives, each of which was one (a wait sends a new message instead).
 */
export function attemptNumber(carried: unknown, receiveCount: number): number {
  const earlier = typeof carried === 'number' && Number.isInteger(carried) && carried > 0 ? carried : 0;
  return earlier + Math.max(1, receiveCount);
}
