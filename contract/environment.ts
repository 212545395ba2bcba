/**
 * Everything a function is told through its environment: resource names and tuning, never secrets (those are
 * read from Secrets Manager by ARN). The construct writes these names, the runtime reads them, and the local
 * stack maps its own settings onto them.
 */
export const ENV = {
  tableName: 'TABLE_NAME',
  bucketName: 'BUCKET_NAME',
  queueUrl: 'QUEUE_URL',
  callbackQueueUrl: 'CALLBACK_QUEUE_URL',
  callbackDeadLetterQueueUrl: 'CALLBACK_DEAD_LETTER_QUEUE_URL',
  callbackKeySecret: 'CALLBACK_SIGNING_KEY_SECRET_ARN',
  allowPlainHttp: 'ALLOW_PLAIN_HTTP',
  allowPrivateAddresses: 'ALLOW_PRIVATE_ADDRESSES',
  callbackRetryBaseSeconds: 'CALLBACK_RETRY_BASE_SECONDS',
  apiTokenSecret: 'REPLICATE_API_TOKEN_SECRET_ARN',
  webhookSecret: 'REPLICATE_WEBHOOK_SECRET_ARN',
  replicateBaseUrl: 'REPLICATE_API_BASE_URL',
  outputHosts: 'OUTPUT_HOSTS',
  maxOutputBytes: 'MAX_OUTPUT_BYTES',
  maxOutputFiles: 'MAX_OUTPUT_FILES',
  maxOutputTotalBytes: 'MAX_OUTPUT_TOTAL_BYTES',
  downloadTimeoutSeconds: 'DOWNLOAD_TIMEOUT_SECONDS',
  presignedUrlSeconds: 'PRESIGNED_URL_SECONDS',
  transferLeaseSeconds: 'TRANSFER_LEASE_SECONDS',
  publicUrl: 'PUBLIC_URL',
  downloadAttempts: 'DOWNLOAD_ATTEMPTS',
  jobTimeoutSeconds: 'JOB_TIMEOUT_SECONDS',
  reconcileAfterSeconds: 'RECONCILE_AFTER_SECONDS',
  reconcileBatchSize: 'RECONCILE_BATCH_SIZE',
  ownerLimits: 'OWNER_LIMITS',
  downloadRetryBaseMs: 'DOWNLOAD_RETRY_BASE_MS',
  admissionQueueUrl: 'ADMISSION_QUEUE_URL',
  replicateCreatesPerMinute: 'REPLICATE_CREATES_PER_MINUTE',
  indexShards: 'INDEX_SHARDS',
  maxUploadBytes: 'MAX_UPLOAD_BYTES',
  uploadRetentionDays: 'UPLOAD_RETENTION_DAYS',
  outputRetentionDays: 'OUTPUT_RETENTION_DAYS',
  prices: 'PRICES',
  refundFailuresWithoutOutput: 'REFUND_FAILURES_WITHOUT_OUTPUT',
  refundClientCancels: 'REFUND_CLIENT_CANCELS',
  maxPreferWaitSeconds: 'MAX_PREFER_WAIT_SECONDS',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
