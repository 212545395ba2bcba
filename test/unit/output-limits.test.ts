import type { OutputFailure } from '../../lambdas/core/errors';
import { ByteBudget, checkFileCount } from '../../lambdas/core/output-limits';

const failureOf = (action: () => void): OutputFailure => {
  try {
    action();
  } catch (error) {
    return error as OutputFailure;
  }
  throw new Error('expected a failure');
};

describe('output limits', () => {
  it('allows up to the file limit, and fails one over it for good', () => {
    expect(() => checkFileCount(3, { maxFiles: 3, maxTotalBytes: 1 })).not.toThrow();
    expect(failureOf(() => checkFileCount(4, { maxFiles: 3, maxTotalBytes: 1 }))).toMatchObject({
      code: 'too_many_outputs',
      permanent: true,
    });
  });

  it('counts bytes up to the limit exactly, and stays over once over', () => {
    const budget = new ByteBudget(10);
    budget.take(6);
    budget.take(4);
    expect(failureOf(() => budget.take(1))).toMatchObject({ code: 'outputs_total_too_large', permanent: true });
    budget.giveBack(5);
    expect(failureOf(() => budget.take(1)).code).toBe('outputs_total_too_large');
  });

  it('gives back the bytes of a download that will be tried again', () => {
    const budget = new ByteBudget(10);
    budget.take(8);
    budget.giveBack(8);
    expect(() => budget.take(10)).not.toThrow();
  });
});
