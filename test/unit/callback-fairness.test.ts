import {
  attemptNumber,
  LEASE_SECONDS,
  NO_CALLBACK_STATE,
  type OwnerCallbackState,
  PARK_AFTER_FAILURES,
  parkedUntil,
  planOwner,
  QUICK_ROUND_MS,
  retryDelaySeconds,
  SHARE_PER_OWNER,
  SHARE_WAIT_SECONDS,
} from '../../lambdas/core/callback-fairness';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const state = (patch: Partial<OwnerCallbackState>): OwnerCallbackState => ({ ...NO_CALLBACK_STATE, ...patch });
const BASE = 10;

/** Who may use the callback sender, and when: the pure rules the sender's handler applies per owner and batch. */
describe('callback fairness rules', () => {
  it("backs a callback off doubling from the base, at most 15 minutes (SQS's longest delay)", () => {
    expect([1, 2, 3, 4, 7, 8].map((attempt) => retryDelaySeconds(BASE, attempt))).toEqual([10, 20, 40, 80, 640, 900]);
  });

  it("parks an owner from its third failed round in a row, as long as a callback's retry after that many failures", () => {
    expect(PARK_AFTER_FAILURES).toBe(3);
    expect(parkedUntil(state({ failures: 2, lastFailureAt: NOW }), BASE)).toBeUndefined();
    expect(parkedUntil(state({ failures: 3, lastFailureAt: NOW }), BASE)).toBe(NOW + 40_000);
    expect(parkedUntil(state({ failures: 12, lastFailureAt: NOW }), BASE)).toBe(NOW + 900_000);
  });

  it("lets a parked owner's callbacks wait until the park ends, and try again once it has", () => {
    const parked = state({ failures: 3, lastFailureAt: NOW });
    expect(planOwner(parked, 'b1', NOW + 1_500, BASE)).toEqual({ deliver: false, waitSeconds: 39, reason: 'parked' });
    expect(planOwner(parked, 'b1', NOW + 40_000, BASE)).toEqual({ deliver: true, leases: { b1: NOW + 40_000 } });
  });

  it('gives an owner at most its share of concurrent batches; a lease past its life holds nothing', () => {
    expect(SHARE_PER_OWNER).toBe(2);
    expect(planOwner(state({ leases: { a: NOW - 1 } }), 'b1', NOW, BASE)).toEqual({
      deliver: true,
      leases: { a: NOW - 1, b1: NOW },
    });
    const full = state({ leases: { a: NOW - 5_000, b: NOW - 2_000 } });
    expect(planOwner(full, 'b1', NOW, BASE)).toEqual({
      deliver: false,
      waitSeconds: SHARE_WAIT_SECONDS,
      reason: 'share',
      soon: false,
    });
    const expired = state({ leases: { a: NOW - LEASE_SECONDS * 1000, b: NOW - 2_000 } });
    expect(planOwner(expired, 'b1', NOW, BASE)).toEqual({ deliver: true, leases: { b: NOW - 2_000, b1: NOW } });
  });

  it('says a share held only by young batches (a fast endpoint) is worth waiting for here', () => {
    const young = state({ leases: { a: NOW - 100, b: NOW - QUICK_ROUND_MS + 1 } });
    expect(planOwner(young, 'b1', NOW, BASE)).toMatchObject({ deliver: false, reason: 'share', soon: true });
    const oneOld = state({ leases: { a: NOW - 100, b: NOW - QUICK_ROUND_MS } });
    expect(planOwner(oneOld, 'b1', NOW, BASE)).toMatchObject({ deliver: false, reason: 'share', soon: false });
  });

  it('numbers attempts across the messages a callback went through', () => {
    expect(attemptNumber(undefined, 1)).toBe(1);
    expect(attemptNumber(undefined, 3)).toBe(3);
    expect(attemptNumber(2, 1)).toBe(3);
    expect(attemptNumber(-4, 2)).toBe(2); // a hostile or broken body counts nothing
    expect(attemptNumber('7', 1)).toBe(1);
  });
});
