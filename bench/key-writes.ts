import type { ItemWriteRecord, RequestRecord } from '../local/iam/iam-proxy';

/**
 * From the local runtime's records, the writes each partition key (of the table and of each index) takes per job,
 * and what that makes at a given rate of jobs. Nothing here knows the table's key names: keys come from the records,
 * and which jobs a key's writes were for from the invocations that wrote it (their trace), so a new key design is
 * measured as it is.
 *
 * Which jobs an invocation worked for: the known job ids among the keys of everything it touched (the job items it
 * read or wrote). A write is for those jobs, and so for their owners. A key is then
 * - per job: one job is common to all its writes (the job's own item, its index entries);
 * - per owner: one owner is common to all its writes but no one job (a counter of the owner's);
 * - shared: no owner is common (its writes are for several owners: a key every job goes through);
 * - per request: never attributed, written within one invocation (a webhook receipt);
 * - unattributed: never attributed, written by several invocations: taken as shared (the cautious reading).
 */

export type Scope = 'job' | 'owner' | 'shared' | 'request' | 'unattributed';

export interface Population {
  name: string;
  /** Job id → owner, of the jobs this population submitted. */
  jobs: Map<string, string>;
  /** The item writes made while it ran (and settled). */
  writes: ItemWriteRecord[];
}

export interface Scenario {
  label: string;
  /** Jobs per second, in all. */
  total: number;
  /** Jobs per second of one owner. */
  perOwner: number;
}

export interface KeyClassRow {
  /** `table`, or the index's name. */
  where: string;
  /** The keys' common shape: known owners as `<owner>`, job ids as `<job>`, random ids as `*`, digits as `N`. */
  keyClass: string;
  scopes: Scope[];
  keys: number;
  /** Writes per job, of the jobs that write keys of this class (write attempts, failed conditions included). */
  writesPerJob: number;
  /** Of which failed conditions (table keys only). */
  failedPerJob: number;
  /**
   * The busiest key's writes per second at the scenario's rate; for per-job and per-request keys, which do not
   * see more writes as the rate grows, undefined (see `mostPerKey`).
   */
  busiestPerSecond?: number;
  /**
   * The mean over the class's keys of their writes per second: what each would take if the writes spread evenly
   * (shards picked at random do at scale; a sample of a few hundred jobs makes its busiest shard look busier).
   */
  meanPerSecond?: number;
  /**
   * For a class of several keys: the busiest key in this sample (`busiestPerSecond` is then the estimate at
   * scale, `busiestAtScale`).
   */
  sampleBusiestPerSecond?: number;
  /** The most writes one key of the class took in this population. */
  mostPerKey: number;
}

/**
 * The busiest of a class's keys at the scenario's rate, when each job picks its key at random (a hash of its id,
 * a random counter shard): a key's jobs per second are then binomial around the mean n, and the busiest of a few
 * dozen keys is within n + 3√n of it. A sample of a few hundred jobs cannot show this: its busiest key is mostly
 * noise (2× the mean at 200 jobs over 32 keys).
 */
export function busiestAtScale(meanWritesPerSecond: number, writesPerJob: number): number {
  const jobsPerSecond = meanWritesPerSecond / Math.max(writesPerJob, 1e-9);
  return (jobsPerSecond + 3 * Math.sqrt(jobsPerSecond)) * writesPerJob;
}

interface Touch {
  trace?: string;
  writes: number;
  failed: number;
}

/** Each key's writes, as `where\u0000key` → its touches. */
function touchesOf(writes: ItemWriteRecord[]): Map<string, Touch[]> {
  const touches = new Map<string, Touch[]>();
  const add = (where: string, key: string, touch: Touch) => {
    const id = `${where}\u0000${key}`;
    touches.set(id, [...(touches.get(id) ?? []), touch]);
  };
  for (const write of writes) {
    // A failed condition consumes a write on the table key (and changes no index); other refusals write nothing.
    if (write.outcome === 'failed') continue;
    add('table', write.key, {
      trace: write.trace,
      writes: 1,
      failed: write.outcome === 'conditionFailed' ? 1 : 0,
    });
    for (const entry of write.indexWrites)
      add(entry.index, entry.key, { trace: write.trace, writes: entry.writes, failed: 0 });
  }
  return touches;
}

/** Invocation (trace) → the known jobs whose items it touched (read or written). */
export function jobsByInvocation(
  requests: RequestRecord[],
  writes: ItemWriteRecord[],
  jobIds: Set<string>,
): Map<string, Set<string>> {
  const jobs = new Map<string, Set<string>>();
  for (const record of [...requests, ...writes]) {
    if (record.trace === undefined || record.key === undefined || !jobIds.has(record.key)) continue;
    jobs.set(record.trace, (jobs.get(record.trace) ?? new Set()).add(record.key));
  }
  return jobs;
}

/**
 * Each key's scope, from all its writes (of every population), and its owner or job when it has one. A key that met
 * one job only may still be one of a group's keys that this sample spread thin (a shard of an owner's counter that
 * one job happened to pick): when other keys of its class are per owner or shared, it is read as they are.
 */
export function scopesOf(
  writes: ItemWriteRecord[],
  invocations: Map<string, Set<string>>,
  ownerOf: Map<string, string>,
  classOf: (key: string) => string,
): Map<string, { scope: Scope; owner?: string; job?: string }> {
  const scopes = new Map<string, { scope: Scope; owner?: string; job?: string }>();
  const singleJob = new Map<string, Set<string>>();
  for (const [id, touches] of touchesOf(writes)) {
    const attributed = touches.flatMap((touch) => {
      const jobs = touch.trace === undefined ? undefined : invocations.get(touch.trace);
      return jobs?.size ? [jobs] : [];
    });
    if (attributed.length === 0) {
      const traces = new Set(touches.map((touch) => touch.trace));
      scopes.set(id, { scope: traces.size === 1 && !traces.has(undefined) ? 'request' : 'unattributed' });
      continue;
    }
    const commonJobs = intersect(attributed);
    if (commonJobs.size > 0) {
      const job = [...commonJobs][0];
      scopes.set(id, { scope: 'job', job, owner: ownerOf.get(job) });
      singleJob.set(id, commonJobs);
      continue;
    }
    scopes.set(id, ownerScope(attributed, ownerOf));
  }
  const classScopes = new Map<string, Set<Scope>>();
  const classId = (id: string) => {
    const [where, key] = id.split('\u0000');
    return `${where}\u0000${classOf(key)}`;
  };
  for (const [id, { scope }] of scopes)
    classScopes.set(classId(id), (classScopes.get(classId(id)) ?? new Set()).add(scope));
  for (const [id, jobs] of singleJob) {
    const others = classScopes.get(classId(id))!;
    if (others.has('owner')) scopes.set(id, ownerScope([jobs], ownerOf));
    else if (others.has('shared')) scopes.set(id, { scope: 'shared' });
  }
  return scopes;
}

/** Per owner when one owner is common to every write's jobs, else shared. */
function ownerScope(attributed: Array<Set<string>>, ownerOf: Map<string, string>): { scope: Scope; owner?: string } {
  const commonOwners = intersect(attributed.map((jobs) => new Set([...jobs].map((job) => ownerOf.get(job)!))));
  return commonOwners.size > 0 ? { scope: 'owner', owner: [...commonOwners][0] } : { scope: 'shared' };
}

/**
 * One row per (table or index, key class): writes per job, and the busiest key's writes per second at the scenario.
 * A shared key scales with the total rate: its writes per job of the population × jobs per second in all. A per-owner
 * key scales with its owner's rate: its writes per job of that owner × one owner's jobs per second.
 */
export function keyClassRows(
  population: Population,
  scenario: Scenario,
  scopes: Map<string, { scope: Scope; owner?: string; job?: string }>,
  classOf: (key: string) => string,
): KeyClassRow[] {
  const jobsOfOwner = new Map<string, number>();
  for (const owner of population.jobs.values()) jobsOfOwner.set(owner, (jobsOfOwner.get(owner) ?? 0) + 1);
  const rows = new Map<
    string,
    KeyClassRow & { writers: Set<string>; total: number; failed: number; rates: number[] }
  >();
  for (const [id, touches] of touchesOf(population.writes)) {
    const [where, key] = id.split('\u0000');
    const { scope, owner, job } = scopes.get(id)!;
    const writes = touches.reduce((sum, touch) => sum + touch.writes, 0);
    const failed = touches.reduce((sum, touch) => sum + touch.failed, 0);
    const ownersJobs = owner === undefined ? 0 : (jobsOfOwner.get(owner) ?? 0);
    const perSecond =
      scope === 'job' || scope === 'request'
        ? undefined
        : scope === 'owner' && ownersJobs > 0
          ? (writes / ownersJobs) * scenario.perOwner
          : (writes / population.jobs.size) * scenario.total;
    // The jobs that write this key: its job, its owner's jobs, or (shared, unknown) all of the population's.
    const writers =
      scope === 'job' && job !== undefined
        ? [job]
        : scope === 'owner' && ownersJobs > 0
          ? [...population.jobs].filter(([, each]) => each === owner).map(([id]) => id)
          : [...population.jobs.keys()];
    const rowId = `${where}\u0000${classOf(key)}`;
    const row = rows.get(rowId) ?? {
      where,
      keyClass: classOf(key),
      scopes: [],
      keys: 0,
      writesPerJob: 0,
      failedPerJob: 0,
      mostPerKey: 0,
      writers: new Set<string>(),
      total: 0,
      failed: 0,
      rates: [],
    };
    row.keys++;
    row.total += writes;
    row.failed += failed;
    row.mostPerKey = Math.max(row.mostPerKey, writes);
    if (!row.scopes.includes(scope)) row.scopes.push(scope);
    if (perSecond !== undefined) {
      row.busiestPerSecond = Math.max(row.busiestPerSecond ?? 0, perSecond);
      row.rates.push(perSecond);
    }
    for (const each of writers) if (population.jobs.has(each)) row.writers.add(each);
    rows.set(rowId, row);
  }
  return [...rows.values()]
    .map(({ writers, total, failed, rates, ...row }) => {
      const writesPerJob = total / Math.max(1, writers.size);
      const meanPerSecond = rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : undefined;
      return {
        ...row,
        ...(meanPerSecond === undefined ? {} : { meanPerSecond }),
        // Keys numbered by a shard (`N` in the class: a hash, a random counter shard) are picked at random.
        ...(meanPerSecond !== undefined && rates.length > 1 && /N/.test(row.keyClass)
          ? {
              sampleBusiestPerSecond: row.busiestPerSecond,
              busiestPerSecond: busiestAtScale(meanPerSecond, writesPerJob),
            }
          : {}),
        writesPerJob,
        failedPerJob: failed / Math.max(1, writers.size),
      };
    })
    .sort((a, b) => (b.busiestPerSecond ?? -1) - (a.busiestPerSecond ?? -1) || b.writesPerJob - a.writesPerJob);
}

/**
 * A key's class: its tokens (runs of letters, digits, `_` and `-`) that are known job ids become `<job>`, known
 * owners `<owner>`, other long tokens with a digit (random ids) `*`, and any other digits `N`.
 */
export function keyClassifier(jobIds: Set<string>, owners: Set<string>): (key: string) => string {
  return (key) =>
    key.replace(/[A-Za-z0-9_-]+/g, (token) => {
      if (jobIds.has(token)) return '<job>';
      if (owners.has(token)) return '<owner>';
      if (token.length >= 12 && /\d/.test(token)) return '*';
      return token.replace(/\d+/g, 'N');
    });
}

function intersect<T>(sets: Array<Set<T>>): Set<T> {
  const [first, ...rest] = sets;
  return new Set([...first].filter((each) => rest.every((set) => set.has(each))));
}
