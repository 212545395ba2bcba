import fc from 'fast-check';
import { takeFairly } from '../../lambdas/core/fair-share';

const item = (owner: string, n: number) => ({ owner, id: `${owner}${n}` });

describe('takeFairly', () => {
  it('gives a single item of another owner a place among the first, whatever the backlog before it', () => {
    const backlog = [...Array.from({ length: 1000 }, (_, n) => item('a', n)), item('b', 0)];
    expect(takeFairly(backlog, 3).map((x) => x.id)).toEqual(['a0', 'b0', 'a1']);
  });

  it("keeps each owner's order and stops at the limit; takes everything when there is room", () => {
    const items = [item('a', 0), item('b', 0), item('a', 1), item('a', 2), item('c', 0), item('b', 1)];
    expect(takeFairly(items, 4).map((x) => x.id)).toEqual(['a0', 'b0', 'c0', 'a1']);
    expect(takeFairly(items, 100).map((x) => x.id)).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'a2']);
    expect(takeFairly(items, 0)).toEqual([]);
  });

  it('for any input: takes min(limit, n) distinct items, each owner at most one more than any other with items left', () => {
    const owners = fc.constantFrom('a', 'b', 'c', 'd');
    fc.assert(
      fc.property(fc.array(owners, { maxLength: 60 }), fc.integer({ min: 0, max: 70 }), (ownerList, limit) => {
        const items = ownerList.map((owner, n) => item(owner, n));
        const taken = takeFairly(items, limit);
        expect(new Set(taken).size).toBe(Math.min(limit, items.length));
        const count = (list: typeof items, owner: string) => list.filter((x) => x.owner === owner).length;
        const takenCounts = ['a', 'b', 'c', 'd'].map((owner) => count(taken, owner));
        const leftOver = ['a', 'b', 'c', 'd'].filter((owner) => count(items, owner) > count(taken, owner));
        // An owner with items left over was never given fewer than any other owner, less one.
        for (const owner of leftOver) expect(Math.max(...takenCounts)).toBeLessThanOrEqual(count(taken, owner) + 1);
        // Within an owner, the order is kept: its oldest items are taken first.
        for (const owner of ['a', 'b', 'c', 'd']) {
          expect(taken.filter((x) => x.owner === owner)).toEqual(
            items.filter((x) => x.owner === owner).slice(0, count(taken, owner)),
          );
        }
      }),
      { seed: 20261129 },
    );
  });
});
