import { type OwnerPlan, planOwner, QUICK_ROUND_MS, SHARE_WAIT_SECONDS } from '../core/callback-fairness';
import { SHARE_POLL_MS } from '../core/limits';
import { type Callback, deliverCallback } from './deliver-callback';
import type { Dependencies } from './dependencies';

/**
 * One round per owner in a batch (core/callback-fairness): the owner's item is read and the batch's lease
 * taken in one conditional write; then either all the owner's callbacks in the batch are attempted at once
 * and the round counted when the last has ended, or all of them wait in the queue. Answers, per record,
 * whether its message is done with.
 */
export class OwnerRounds {
  private readonly rounds = new Map<string, Promise<Map<string, boolean>>>();

  constructor(
    private readonly deps: Dependencies,
    private readonly batchId: string,
    private readonly batch: Promise<Array<Callback | undefined>>,
    private readonly signal: AbortSignal,
  ) {}

  async outcome(callback: Callback): Promise<boolean> {
    const owner = callback.job.owner;
    let round = this.rounds.get(owner);
    if (!round) {
      round = this.run(owner);
      this.rounds.set(owner, round);
    }
    return (await round).get(callback.record.messageId) ?? false;
  }

  private async run(owner: string): Promise<Map<string, boolean>> {
    const { deps } = this;
    const callbacks = (await this.batch).filter((callback): callback is Callback => callback?.job.owner === owner);
    if (callbacks.length === 0) return new Map();
    const plan = await this.plan(owner);
    if (!plan.deliver) {
      const wait = plan;
      return new Map(
        await Promise.all(
          callbacks.map(async (callback) => [callback.record.messageId, await requeue(deps, callback, wait)] as const),
        ),
      );
    }
    // The lease is given back as soon as every endpoint has answered (or not), before the attempts are logged:
    // a batch waiting for the owner's share gets it that much sooner.
    let unanswered = callbacks.length;
    let delivered = false;
    let allAnswered!: () => void;
    const settled = new Promise<void>((resolve) => (allAnswered = resolve)).then(() =>
      deps.callbackOwners
        .settle(owner, this.batchId, delivered, deps.clock())
        .catch((error) => deps.log.warn('could not end a callback round; its lease ends by itself', { owner, error })),
    );
    const done = await Promise.all(
      callbacks.map(async (callback) => {
        let told = false;
        const answered = (ok: boolean) => {
          if (told) return;
          told = true;
          delivered ||= ok;
          if (--unanswered === 0) allAnswered();
        };
        try {
          return await deliverCallback(deps, callback, this.signal, answered);
        } catch (error) {
          deps.log.error("callback attempt failed unexpectedly; it comes back after the queue's visibility timeout", {
            jobId: callback.job.id,
            error,
          });
          return false;
        } finally {
          answered(false);
        }
      }),
    );
    await settled;
    return new Map(callbacks.map((callback, i) => [callback.record.messageId, done[i]]));
  }

  /**
   * The owner's plan, with the lease taken when it delivers. While the share is held by batches of a fast
   * endpoint (`soon`), or another batch took a lease in between, it asks again here: for QUICK_ROUND_MS at
   * most, so a bursty owner with a fast endpoint is not sent back for seconds, and a slow one holds this
   * batch no longer than that.
   */
  private async plan(owner: string): Promise<OwnerPlan> {
    const { callbackOwners, clock, settings } = this.deps;
    const since = clock().getTime();
    for (;;) {
      const state = await callbackOwners.read(owner);
      const now = clock();
      const plan = planOwner(state, this.batchId, now.getTime(), settings.callbacks.retryBaseSeconds);
      if (
        plan.deliver
          ? await callbackOwners.lease(owner, state, plan.leases, now)
          : plan.reason === 'parked' || !plan.soon
      )
        return plan;
      if (now.getTime() - since >= QUICK_ROUND_MS)
        return { deliver: false, waitSeconds: SHARE_WAIT_SECONDS, reason: 'share', soon: false };
      await new Promise((resolve) => setTimeout(resolve, SHARE_POLL_MS));
    }
  }
}

/**
 * Back to the queue as a new message, delayed, carrying the attempts made so far: changing the received
 * message's visibility would count a receive, and the queue's redrive would take waits for failed attempts.
 */
async function requeue(
  deps: Dependencies,
  { record, job, attempt }: Callback,
  wait: { waitSeconds: number; reason: 'parked' | 'share' },
): Promise<boolean> {
  const attempts = attempt - 1;
  const context = { jobId: job.id, owner: job.owner, waitSeconds: wait.waitSeconds };
  try {
    await deps.callbacks.send({ jobId: job.id, ...(attempts > 0 ? { attempts } : {}) }, wait.waitSeconds);
  } catch (error) {
    deps.log.warn('could not requeue a waiting callback; it comes back after its wait', { ...context, error });
    await deps.callbacks.retryLater(record.receiptHandle, wait.waitSeconds).catch(() => undefined);
    return false;
  }
  deps.log.info(
    wait.reason === 'parked'
      ? 'callback waits: its owner is parked'
      : 'callback waits: its owner has its share of the sender',
    context,
  );
  return true;
}
