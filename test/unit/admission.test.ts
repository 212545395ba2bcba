import { backlogOf, paceOf, RoundRobinQueue, slotStart, windowOf } from '../../lambdas/core/admission';
import { shardKey, shardKeys, shardOf } from '../../lambdas/core/shards';

describe('admission pace', () => {
  it.each([
    [600, { windowSeconds: 1, capacity: 10 }],
    [90, { windowSeconds: 2, capacity: 3 }],
    [60, { windowSeconds: 1, capacity: 1 }],
    [7, { windowSeconds: 60, capacity: 7 }],
    [3000, { windowSeconds: 1, capacity: 50 }],
  ])('%i creates a minute → %o, never above the rate in a minute', (perMinute, pace) => {
    expect(paceOf(perMinute)).toEqual(pace);
    expect((pace.capacity * 60) / pace.windowSeconds).toBe(perMinute);
  });

  it('spreads the creates of a window evenly over it, so back-to-back windows never bunch up', () => {
    const pace = { windowSeconds: 1, capacity: 4 };
    expect([1, 2, 3, 4].map((taken) => slotStart(pace, 10, taken))).toEqual([10_000, 10_250, 10_500, 10_750]);
  });

  it('numbers windows and says how long until the next one', () => {
    expect(windowOf({ windowSeconds: 2, capacity: 1 }, new Date(5_500))).toEqual({ window: 2, msUntilNext: 500 });
  });
});

describe('RoundRobinQueue', () => {
  const job = (id: string, owner: string, at: number) => ({ id, owner, waitingSince: new Date(at).toISOString() });

  it('takes owners in turn and each owner oldest first, whatever order the jobs were read in', () => {
    const line = new RoundRobinQueue();
    line.add([job('a2', 'a', 2), job('a1', 'a', 1), job('a3', 'a', 3), job('b1', 'b', 5), job('c1', 'c', 9)]);
    const order = Array.from({ length: 5 }, () => line.next()!.id);
    expect(order).toEqual(['a1', 'b1', 'c1', 'a2', 'a3']);
    expect(line.next()).toBeUndefined();
  });

  it('keeps a job read twice once, and puts a job taken back in front of its owner', () => {
    const line = new RoundRobinQueue();
    line.add([job('a1', 'a', 1), job('a2', 'a', 2)]);
    line.add([job('a1', 'a', 1)]);
    expect(line.size).toBe(2);
    const first = line.next()!;
    line.putBack(first);
    expect(line.next()!.id).toBe('a1');
  });

  it('gives a newcomer the next turn when one owner holds thousands', () => {
    const line = new RoundRobinQueue();
    line.add(Array.from({ length: 10_000 }, (_, i) => job(`a${i}`, 'a', i)));
    line.next();
    line.add([job('b', 'b', 20_000)]);
    expect([line.next()!.id, line.next()!.id]).toContain('b');
  });

  it('reports the backlog and the oldest wait', () => {
    const now = new Date(10_000);
    expect(backlogOf([job('a', 'a', 4_000), job('b', 'b', 7_000)], now)).toEqual({ waiting: 2, oldestWaitSeconds: 6 });
    expect(backlogOf([], now)).toEqual({ waiting: 0, oldestWaitSeconds: 0 });
  });
});

describe('shards', () => {
  it('spreads random ids evenly over the shards, and names them in order', () => {
    const counts = new Array(32).fill(0);
    for (let i = 0; i < 32_000; i++) counts[shardOf(`job_${Math.random().toString(36).slice(2)}${i}`, 32)]++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
    expect(shardKey('active', 7)).toBe('active#07');
    expect(shardKeys('wait', 3)).toEqual(['wait#00', 'wait#01', 'wait#02']);
    expect(shardOf('job_x', 1)).toBe(0);
  });
});
