/**
 * Runs `work` over `items` with at most `concurrency` running at once, in the items' order. No new item starts
 * once `stop()` answers true (those under way finish). `work` must not throw: each caller decides what a
 * failed item means (the output copy stops the job, the reconciler moves on).
 */
export async function forEachBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stop()) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
