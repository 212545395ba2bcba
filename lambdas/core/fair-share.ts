/**
 * Picks up to `limit` items from a list that is in priority order (oldest first), one owner at a time in
 * turn: each owner with items gets an equal share, and within an owner the order is kept. One owner with
 * thousands of items therefore cannot push another owner's single item out of a run.
 */
export function takeFairly<T extends { owner: string }>(items: readonly T[], limit: number): T[] {
  const byOwner = new Map<string, T[]>();
  for (const item of items) {
    const queue = byOwner.get(item.owner);
    if (queue) queue.push(item);
    else byOwner.set(item.owner, [item]);
  }
  const queues = [...byOwner.values()]; // owners in the order of their first (oldest) item
  const taken: T[] = [];
  while (taken.length < limit && queues.length > 0) {
    for (let i = 0; i < queues.length && taken.length < limit; ) {
      const item = queues[i].shift()!;
      taken.push(item);
      if (queues[i].length === 0) queues.splice(i, 1);
      else i++;
    }
  }
  return taken;
}
