import { busiestAtScale, jobsByInvocation, keyClassifier, keyClassRows, scopesOf } from '../../bench/key-writes';
import type { ItemWriteRecord, RequestRecord } from '../../local/iam/iam-proxy';

// The scale benchmark's reading of the records: which jobs each key's writes were for, and so how the key scales.

const ownerOf = new Map([
  ['job_a1', 'a'],
  ['job_a2', 'a'],
  ['job_b1', 'b'],
  ['job_b2', 'b'],
]);
const write = (
  trace: string | undefined,
  key: string,
  indexWrites: ItemWriteRecord['indexWrites'] = [],
  outcome: ItemWriteRecord['outcome'] = 'written',
): ItemWriteRecord => ({
  function: 'fn',
  operation: 'UpdateItem',
  table: 'jobs',
  key,
  outcome,
  indexWrites,
  at: 0,
  ...(trace !== undefined ? { trace } : {}),
});
const entered = (owner: string) => [
  { index: 'byOwner', key: owner, writes: 1 },
  { index: 'unfinished', key: 'active', writes: 1 },
];
const read = (trace: string, key: string) => ({ trace, key }) as RequestRecord;

// Four submits (one invocation each), one consumer batch for a1 and b1 (it reads them first), a webhook receipt,
// a key two invocations wrote for no job, and a refused write.
const writes = [
  ...['a1', 'a2', 'b1', 'b2'].flatMap((job) => [
    write(`submit-${job}`, `quota#${job[0]}`),
    write(`submit-${job}`, `job_${job}`, entered(job[0])),
  ]),
  write('batch', 'job_a1', [
    { index: 'byOwner', key: 'a', writes: 1 },
    { index: 'unfinished', key: 'active', writes: 1 },
  ]),
  write('batch', 'job_b1', [
    { index: 'byOwner', key: 'b', writes: 1 },
    { index: 'unfinished', key: 'active', writes: 1 },
  ]),
  write('batch', 'quota#a'),
  write('batch', 'quota#b', [], 'conditionFailed'),
  write('webhook', 'webhook#msg_b780fac27d7fdccbc8652751'),
  write('elsewhere-1', 'lonely'),
  write('elsewhere-2', 'lonely'),
  write('batch', 'quota#a', [], 'failed'),
  // A counter of a's in shards: shard 1 met one job only, shard 2 two.
  write('submit-a1', 'count#a#1'),
  write('submit-a2', 'count#a#2'),
  write('batch', 'count#a#2'),
];
const requests = [read('batch', 'job_a1'), read('batch', 'job_b1')];
const jobIds = new Set(ownerOf.keys());
const invocations = jobsByInvocation(requests, writes, jobIds);
const classOf = keyClassifier(jobIds, new Set(['a', 'b']));
const scopes = scopesOf(writes, invocations, ownerOf, classOf);
const scopeOf = (where: string, key: string) => scopes.get(`${where}\u0000${key}`);

describe('which jobs a key is written for', () => {
  it('an invocation works for the known jobs whose items it read or wrote', () => {
    expect(invocations.get('batch')).toEqual(new Set(['job_a1', 'job_b1']));
    expect(invocations.get('submit-a2')).toEqual(new Set(['job_a2']));
    expect(invocations.has('webhook')).toBe(false);
  });

  it("a job's item and its index entries are per job; an owner's counter and index key per owner", () => {
    expect(scopeOf('table', 'job_a1')).toEqual({ scope: 'job', job: 'job_a1', owner: 'a' });
    // Written in a batch that also worked for a1: still b's alone, since every other write was for b only.
    expect(scopeOf('table', 'quota#b')).toEqual({ scope: 'owner', owner: 'b' });
    expect(scopeOf('byOwner', 'a')).toEqual({ scope: 'owner', owner: 'a' });
  });

  it('a key that met one job is read as the other keys of its class when they are per owner (a shard)', () => {
    expect(scopeOf('table', 'count#a#2')).toEqual({ scope: 'owner', owner: 'a' });
    expect(scopeOf('table', 'count#a#1')).toEqual({ scope: 'owner', owner: 'a' });
  });

  it('a key written for several owners is shared; one never attributed is per request, or taken as shared', () => {
    expect(scopeOf('unfinished', 'active')).toEqual({ scope: 'shared' });
    expect(scopeOf('table', 'webhook#msg_b780fac27d7fdccbc8652751')).toEqual({ scope: 'request' });
    expect(scopeOf('table', 'lonely')).toEqual({ scope: 'unattributed' });
  });

  it('the busiest key scales with the total rate when shared, with its owner’s rate when per owner', () => {
    const rows = keyClassRows(
      { name: 'p', jobs: ownerOf, writes },
      { label: 's', total: 100, perOwner: 10 },
      scopes,
      classOf,
    );
    const row = (where: string, keyClass: string) =>
      rows.find((each) => each.where === where && each.keyClass === keyClass);
    // active: 4 entries put + 2 rewritten = 6 writes for 4 jobs → 1.5 per job × 100 jobs/s.
    expect(row('unfinished', 'active')).toEqual(
      expect.objectContaining({ scopes: ['shared'], keys: 1, writesPerJob: 1.5, busiestPerSecond: 150 }),
    );
    // quota#a: 3 writes for a's 2 jobs; quota#b: 2 + 1 failed condition (a write attempt); the refused one is none.
    expect(row('table', 'quota#<owner>')).toEqual(
      expect.objectContaining({
        scopes: ['owner'],
        keys: 2,
        writesPerJob: 1.5,
        failedPerJob: 0.25,
        busiestPerSecond: 15,
      }),
    );
    // Per-job keys do not grow with the rate: only their most writes per key is given.
    expect(row('table', '<job>')).toEqual(expect.objectContaining({ keys: 4, mostPerKey: 2, writesPerJob: 1.5 }));
    expect(row('table', '<job>')!.busiestPerSecond).toBeUndefined();
    // Unattributed, so taken as shared: 2 writes / 4 jobs × 100 jobs/s.
    expect(row('table', 'lonely')).toEqual(expect.objectContaining({ scopes: ['unattributed'], busiestPerSecond: 50 }));
    // count#a#2: 2 writes for a's 2 jobs → 10 writes/s at a's 10 jobs/s; count#a#1 5. Numbered shards are picked at
    // random: at scale their busiest is estimated from the mean (the sample's busiest is kept beside it).
    const estimate = busiestAtScale(7.5, 1.5);
    expect(row('table', 'count#<owner>#N')).toEqual(
      expect.objectContaining({
        keys: 2,
        writesPerJob: 1.5,
        busiestPerSecond: estimate,
        sampleBusiestPerSecond: 10,
        meanPerSecond: 7.5,
      }),
    );
    expect(rows.map((each) => each.busiestPerSecond)).toEqual([150, 50, estimate, 15, 15, undefined, undefined]);
  });

  it('names key classes by shape: owners, jobs, random ids and digits', () => {
    const classOf = keyClassifier(new Set(['job_xheq6a34vd5gxzyg9smcbwnnp4']), new Set(['owner-001', 'solo']));
    expect(classOf('quota#owner-001')).toBe('quota#<owner>');
    expect(classOf('quota#solo#3')).toBe('quota#<owner>#N');
    expect(classOf('job_xheq6a34vd5gxzyg9smcbwnnp4')).toBe('<job>');
    expect(classOf('webhook#msg_b780fac27d7fdccbc8652751')).toBe('webhook#*');
    expect(classOf('active#07')).toBe('active#N');
    expect(classOf('active')).toBe('active');
  });
});

describe('busiestAtScale', () => {
  it('puts the busiest of randomly picked keys three standard deviations above the mean', () => {
    // 10 000 jobs/s over 32 keys, 2 writes a job: 312.5 jobs a key, sd ≈ 17.7.
    expect(busiestAtScale(625, 2)).toBeCloseTo((312.5 + 3 * Math.sqrt(312.5)) * 2, 6);
    expect(busiestAtScale(0, 2)).toBe(0);
  });
});
