import { type IndexSchema, indexWrites, sameValue, type TableSchema } from '../../local/iam/index-writes';

// A table like the jobs table: a KEYS_ONLY index, an ALL index with a sort key, a sparse INCLUDE index.
const byPrediction: IndexSchema = { name: 'byPrediction', partitionKey: 'predictionId', projection: 'KEYS_ONLY' };
const byOwner: IndexSchema = { name: 'byOwner', partitionKey: 'owner', sortKey: 'createdAt', projection: 'ALL' };
const unfinished: IndexSchema = {
  name: 'unfinished',
  partitionKey: 'activeShard',
  sortKey: 'checkAt',
  projection: 'INCLUDE',
  nonKeyAttributes: ['owner'],
};
const table: TableSchema = { partitionKey: 'id', indexes: [byPrediction, byOwner, unfinished] };
const only = (index: IndexSchema): TableSchema => ({ partitionKey: 'id', indexes: [index] });

const S = (value: string) => ({ S: value });
const job = {
  id: S('job_1'),
  owner: S('alice'),
  createdAt: S('2026-01-01T00:00:00Z'),
  status: S('queued'),
  activeShard: S('active'),
  checkAt: S('2026-01-01T00:00:00Z'),
};

describe('index writes of one table write', () => {
  it('a new item is put into each index whose key attributes it has (1 write each), and no other', () => {
    expect(indexWrites(table, undefined, job)).toEqual([
      { index: 'byOwner', key: 'alice', writes: 1 },
      { index: 'unfinished', key: 'active', writes: 1 },
    ]);
  });

  it('a deleted item is removed from each index it was in (1 write each, at its old key)', () => {
    expect(indexWrites(table, { ...job, predictionId: S('p1') }, undefined)).toEqual([
      { index: 'byPrediction', key: 'p1', writes: 1 },
      { index: 'byOwner', key: 'alice', writes: 1 },
      { index: 'unfinished', key: 'active', writes: 1 },
    ]);
  });

  it('an index key that changes costs 2 writes: the old entry deleted, the new one put', () => {
    // The sort key alone: both writes land on the same index partition key.
    const later = { ...job, checkAt: S('2026-01-01T00:00:05Z') };
    expect(indexWrites(only(unfinished), job, later)).toEqual([{ index: 'unfinished', key: 'active', writes: 2 }]);
    // The partition key: one write at the old key, one at the new.
    const moved = { ...job, activeShard: S('active#07') };
    expect(indexWrites(only(unfinished), job, moved)).toEqual([
      { index: 'unfinished', key: 'active', writes: 1 },
      { index: 'unfinished', key: 'active#07', writes: 1 },
    ]);
  });

  it('an item that gains or loses a key attribute of a sparse index enters or leaves it (1 write)', () => {
    const { activeShard: _, ...ended } = job;
    expect(indexWrites(only(unfinished), job, { ...ended, status: S('succeeded') })).toEqual([
      { index: 'unfinished', key: 'active', writes: 1 },
    ]);
    expect(indexWrites(only(unfinished), ended, job)).toEqual([{ index: 'unfinished', key: 'active', writes: 1 }]);
    // Neither image has both key attributes: the index never held the item.
    const { checkAt: __, ...noSortKey } = ended;
    expect(indexWrites(only(unfinished), noSortKey, { ...noSortKey, status: S('failed') })).toEqual([]);
  });

  it('ALL: any attribute change rewrites the entry (1 write); an identical image writes nothing', () => {
    expect(indexWrites(only(byOwner), job, { ...job, status: S('processing') })).toEqual([
      { index: 'byOwner', key: 'alice', writes: 1 },
    ]);
    expect(indexWrites(only(byOwner), job, { ...job, extra: S('new attribute') })).toEqual([
      { index: 'byOwner', key: 'alice', writes: 1 },
    ]);
    expect(indexWrites(only(byOwner), job, { ...job })).toEqual([]);
  });

  it('KEYS_ONLY: only a key change writes; any other attribute is not in the index', () => {
    const withPrediction = { ...job, predictionId: S('p1') };
    expect(indexWrites(only(byPrediction), withPrediction, { ...withPrediction, status: S('succeeded') })).toEqual([]);
    expect(indexWrites(only(byPrediction), withPrediction, { ...withPrediction, predictionId: S('p2') })).toEqual([
      { index: 'byPrediction', key: 'p1', writes: 1 },
      { index: 'byPrediction', key: 'p2', writes: 1 },
    ]);
  });

  it('INCLUDE: a change to a listed attribute writes (1), to any other attribute nothing', () => {
    expect(indexWrites(only(unfinished), job, { ...job, owner: S('bob') })).toEqual([
      { index: 'unfinished', key: 'active', writes: 1 },
    ]);
    expect(indexWrites(only(unfinished), job, { ...job, status: S('processing') })).toEqual([]);
    const { owner: _, ...withoutOwner } = job;
    expect(indexWrites(only(unfinished), job, withoutOwner)).toEqual([
      { index: 'unfinished', key: 'active', writes: 1 },
    ]);
  });

  it('compares values as DynamoDB does: numbers by value, sets and maps unordered, lists ordered', () => {
    expect(sameValue({ N: '1.50' }, { N: '15E-1' })).toBe(true);
    expect(sameValue({ N: '0.015' }, { N: '1.5e-2' })).toBe(true);
    expect(sameValue({ N: '-0' }, { N: '0.0' })).toBe(true);
    expect(sameValue({ N: '100' }, { N: '10' })).toBe(false);
    expect(sameValue({ SS: ['a', 'b'] }, { SS: ['b', 'a'] })).toBe(true);
    expect(sameValue({ NS: ['1', '2.0'] }, { NS: ['2', '1.0'] })).toBe(true);
    expect(sameValue({ M: { a: S('1'), b: S('2') } }, { M: { b: S('2'), a: S('1') } })).toBe(true);
    expect(sameValue({ L: [S('1'), S('2')] }, { L: [S('2'), S('1')] })).toBe(false);
    expect(sameValue({ S: '1' }, { N: '1' })).toBe(false);
    expect(sameValue(undefined, { NULL: true })).toBe(false);
    // So a number rewritten in another spelling is no change to an ALL index.
    expect(indexWrites(only(byOwner), { ...job, n: { N: '1' } }, { ...job, n: { N: '1.0' } })).toEqual([]);
  });
});
