import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { hashJson, IDEMPOTENCY_KEY, idempotentJobId, JOB_ID, newJobId } from '../../lambdas/core/ids';

/** Crockford's base32 of 128 bits, written independently of ids.ts: BigInt's own base-32 digits, remapped. */
function crockford128(bytes: Buffer): string {
  const digits = (BigInt(`0x${bytes.toString('hex')}`) << 2n).toString(32).padStart(26, '0');
  const standard = '0123456789abcdefghijklmnopqrstuv';
  return [...digits].map((digit) => '0123456789abcdefghjkmnpqrstvwxyz'[standard.indexOf(digit)]).join('');
}

describe('job ids', () => {
  it('are job_ and 26 base32 characters, and never repeat', () => {
    const ids = Array.from({ length: 2000 }, newJobId);
    for (const id of ids) expect(id).toMatch(JOB_ID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('for an Idempotency-Key: the first 128 bits of SHA-256(owner NUL key), in Crockford base32', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (owner, key) => {
        const digest = createHash('sha256').update(`${owner}\u0000${key}`).digest().subarray(0, 16);
        expect(idempotentJobId(owner, key)).toBe(`job_${crockford128(digest)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('for an Idempotency-Key: stable across releases (a retry after a deploy must find its job), and per owner', () => {
    expect(idempotentJobId('alice', 'order-42')).toBe('job_xa3mb1ghz3j1gvj4nfhk0rt0zw');
    expect(idempotentJobId('alice', 'order-42')).toMatch(JOB_ID);
    // The separator keeps owner and key apart: ("ab", "c") is not ("a", "bc").
    expect(idempotentJobId('ab', 'c')).not.toBe(idempotentJobId('a', 'bc'));
    expect(idempotentJobId('bob', 'order-42')).not.toBe(idempotentJobId('alice', 'order-42'));
  });

  it.each([
    ['job_0123456789abcdefghjkmnpqrs', true],
    ['job_0123456789abcdefghjkmnpqr', false], // 25 characters
    ['job_0123456789abcdefghjkmnpqrst', false], // 27
    ['job_0123456789abcdefghjkmnpqri', false], // i, l, o and u are not Crockford digits
    ['job_0123456789abcdefghjkmnpqrl', false],
    ['job_0123456789abcdefghjkmnpqro', false],
    ['job_0123456789abcdefghjkmnpqru', false],
    ['job_0123456789ABCDEFGHJKMNPQRS', false],
    ['xjob_0123456789abcdefghjkmnpqrs', false],
  ])('%s is a job id: %s', (text, expected) => {
    expect(JOB_ID.test(text)).toBe(expected);
  });
});

describe('request hash', () => {
  it('ignores key order and undefined fields, at any depth', () => {
    expect(hashJson({ model: 'a/b', input: { prompt: 'x', seed: 1 } })).toBe(
      hashJson({ input: { seed: 1, prompt: 'x' }, model: 'a/b' }),
    );
    expect(hashJson({ model: 'a/b', metadata: undefined })).toBe(hashJson({ model: 'a/b' }));
    expect(hashJson([{ b: 1, a: 2 }])).toBe(hashJson([{ a: 2, b: 1 }]));
  });

  it('sees every other difference: values, types, array order, nesting', () => {
    const values = [
      { a: 1 },
      { a: '1' },
      { a: 2 },
      { b: 1 },
      [1, 2],
      [2, 1],
      [[1], 2],
      { a: null },
      {},
      [],
      null,
      'a',
      { a: { b: 1 } },
      { 'a":{"b': 1 },
    ];
    expect(new Set(values.map(hashJson)).size).toBe(values.length);
  });

  it('is the same for any order of the same keys (many keys, random order)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
        const reversed = Object.fromEntries(Object.entries(object).reverse());
        expect(hashJson(reversed)).toBe(hashJson(object));
      }),
    );
  });

  it('stays the same across releases: a retried request must still match the hash stored with its job', () => {
    expect(hashJson({ model: 'a/b', input: { prompt: 'x', n: [1, 2] } })).toBe(
      '_DyzzSHoenFHAoT1JzJm_xccq3w9YvuMGVyGGNEIEcg',
    );
  });
});

describe('Idempotency-Key format', () => {
  it.each([
    ['a', true],
    ['x'.repeat(255), true],
    ['order-42:retry/1', true],
    ['!~', true], // the first and last printable characters
    ['', false],
    ['x'.repeat(256), false],
    ['with space', false],
    ['tab\t', false],
    ['é', false],
    ['line\nbreak', false],
  ])('%j is a valid key: %s', (key, expected) => {
    expect(IDEMPOTENCY_KEY.test(key)).toBe(expected);
  });
});
