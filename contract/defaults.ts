/**
 * Every default the construct, the functions and the local stack share, in plain numbers (no CDK `Duration`:
 * the functions import this too). The construct's `@default` docs and the README's configuration table state
 * these values; the functions fall back to them only when a variable is missing (the construct always sets it).
 */
export const DEFAULTS = {
  /** Replicate's API; any compatible API may be given instead (a deploy-time stack parameter). */
  replicateApiBaseUrl: 'https://api.replicate.com/v1',
  /** Largest output file copied (`output_too_large` past it): 5 GiB, S3's largest single PUT. */
  maxOutputBytes: 5 * 1024 ** 3,
  /**
   * Files stored per job (`too_many_outputs` past it): far above what image, audio and video models return
   * (1 to 10), with room for frame sequences.
   */
  maxOutputFiles: 100,
  /** Bytes of one job's files together (`outputs_total_too_large`): one file of the default largest size. */
  maxOutputTotalBytes: 5 * 1024 ** 3,
  /** Largest upload `POST /uploads` signs: 100 MiB, the largest file Replicate accepts as a URL input. */
  maxUploadBytes: 100 * 1024 ** 2,
  /** Days an upload is kept (a lifecycle rule deletes it after): a week, long enough for a job and its retries. */
  uploadRetentionDays: 7,
  /** How long an upload URL stays valid: 15 minutes to start sending the bytes. */
  uploadUrlSeconds: 900,
  /** Lifetime of the presigned output URLs `GET /jobs/{id}` answers with: one hour. */
  presignedUrlSeconds: 3600,
  /**
   * The longest `Prefer: wait` a create request is held for (`POST /jobs`, `/v1/.../predictions`): under API
   * Gateway's default 29 s integration timeout, with room for the submit itself.
   */
  maxPreferWaitSeconds: 25,
  /**
   * The consumer's Lambda timeout, which is also how long a copier holds a job's transfer lease: five minutes
   * copies a 1 GiB output with room to spare (bench/README.md).
   */
  consumerTimeoutSeconds: 300,
  /** Most consumer instances at once: bounds the load on Replicate's file hosts and on the table. */
  consumerMaxConcurrency: 10,
  /** Event streams (`GET /jobs/{id}/events`) open at once, all owners together: the events function's reservation. */
  eventStreamConcurrency: 100,
  /** Receives of an event before it goes to the dead-letter queue. */
  maxReceiveCount: 5,
  /** A job unfinished this long is canceled at Replicate and failed `timeout`: ten minutes. */
  jobTimeoutSeconds: 600,
  /** How often the reconciler runs: once a minute. */
  reconcileIntervalSeconds: 60,
  /** How long a job may go without an update before the reconciler polls Replicate for it: two minutes. */
  reconcileAfterSeconds: 120,
  /** A third of Replicate's ~3 000 GETs a minute per account, at one run a minute: the rest is left for clients. */
  reconcileBatchSize: 1000,
  /** Attempts per output file at a transient download error, and the first delay of the backoff between them. */
  downloadAttempts: 4,
  downloadRetryBaseMs: 1000,
  /** First delay before a failed client callback is tried again (it doubles per attempt, at most 15 minutes). */
  callbackRetryBaseSeconds: 10,
  /**
   * Daily credits (lambdas/core/daily-credits.ts): a job that failed before producing output gives its daily count
   * back; a job the client canceled does not.
   */
  dailyCredits: { failuresWithoutOutput: true, clientCancels: false },
  /** Per-owner limits: jobs in flight, jobs per UTC day, submissions Replicate refused per minute. */
  ownerLimits: { maxInFlight: 50, maxPerDay: 10_000, maxRefusalsPerMinute: 20 },
  /**
   * Predictions created at Replicate per minute, by every function together: Replicate's create limit for an
   * account. Above it submissions wait (`queued`, `waitingSince`) and the admitter creates them at this pace.
   */
  replicateCreatesPerMinute: 600,
  /** Keys each sparse index (unfinished jobs, waiting jobs) spreads its jobs over (docs/scale.md). */
  indexShards: 32,
  /** Usage plan per API key: steady requests per second and burst, and requests per day. */
  throttle: { rateLimit: 20, burstLimit: 40 },
  dailyQuota: 100_000,
  /** Stage throttle of `POST /webhooks/replicate` (no API key covers it): all callers together. */
  webhookThrottle: { rateLimit: 100, burstLimit: 200 },
  /** Stage throttle of each other method without an API key (`GET /health`, `GET /openapi.json`). */
  publicThrottle: { rateLimit: 10, burstLimit: 20 },
} as const;

/**
 * Time limit of one output download: the consumer's timeout less 30 s for reading the job and recording the
 * copy, and never under 30 s.
 */
export const downloadTimeoutSecondsFor = (consumerTimeoutSeconds: number): number =>
  Math.max(30, consumerTimeoutSeconds - 30);
