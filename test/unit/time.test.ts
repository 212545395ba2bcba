import { laterOf, systemClock } from '../../lambdas/core/time';

describe('time', () => {
  it('laterOf picks the later ISO timestamp, whichever side it is on', () => {
    const earlier = '2026-01-01T00:00:00.000Z';
    const later = '2026-01-01T00:00:00.001Z';
    expect(laterOf(earlier, later)).toBe(later);
    expect(laterOf(later, earlier)).toBe(later);
    expect(laterOf(later, later)).toBe(later);
  });

  it('the system clock tells the current time', () => {
    const before = Date.now();
    const now = systemClock();
    expect(now).toBeInstanceOf(Date);
    expect(now.getTime()).toBeGreaterThanOrEqual(before);
    expect(now.getTime()).toBeLessThanOrEqual(Date.now());
  });
});
