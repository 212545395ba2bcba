import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import {
  ACCESS_LOG_PREFIX,
  BUCKET_PREFIXES,
  type BucketPrefix,
  RETENTION_DAYS_CHOICES,
  RETENTION_TAG,
  WEBHOOK_BODY_RETENTION_DAYS,
} from '../contract/bucket';
import { JOBS_TABLE_SCHEMA, type JobsTableIndex } from '../contract/table';

export interface JobsStorageProps {
  /** What happens to the table and the buckets when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  /** Days uploads are kept. */
  readonly uploadRetentionDays: number;
  /** Days every job's stored objects are kept; undefined: until the job is deleted. */
  readonly outputRetentionDays?: number;
}

/** The item actions the functions use; each grant names the ones it needs, never `dynamodb:*`. */
export type JobItemAction = 'GetItem' | 'BatchGetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem';
export type ObjectAction = 's3:GetObject' | 's3:PutObject' | 's3:DeleteObject' | 's3:PutObjectTagging';

/**
 * The jobs table and the output bucket (with its access-log bucket), and every grant on them.
 *
 * Not a construct of its own: its resources are created in the `ReplicateJobs` scope, so they keep the construct
 * paths, and so the CloudFormation logical IDs, they had before the construct was split; a new scope would make
 * CloudFormation replace the table and the bucket (and, retained, leave the old ones behind with every job).
 */
export class JobsStorage {
  readonly table: dynamodb.Table;
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, props: JobsStorageProps) {
    this.table = createTable(scope, props.removalPolicy);
    this.bucket = createBucket(scope, props);
  }

  /** `dynamodb:<action>` for each of `actions`, on the jobs table's items (not its indexes). */
  grantJobItems(grantee: iam.IGrantable, ...actions: JobItemAction[]): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: actions.map((action) => `dynamodb:${action}`),
      resourceArns: [this.table.tableArn],
    });
  }

  /** `dynamodb:Query` on one index of the jobs table. */
  grantQueryIndex(grantee: iam.IGrantable, index: JobsTableIndex): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:Query'], resourceArns: [this.indexArn(index)] });
  }

  /** `action` on the objects under each of `prefixes` (contract/bucket.ts) of the output bucket. */
  grantObjects(grantee: iam.IGrantable, action: ObjectAction, ...prefixes: BucketPrefix[]): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [action],
      resourceArns: prefixes.map((prefix) => this.bucket.arnForObjects(`${prefix}/*`)),
    });
  }

  /**
   * Reading a job's stored output, as `GET /jobs/{id}` does: `s3:GetObject` on `outputs/*` (the copied files)
   * and `results/*` (outputs too large for the job's item). Nothing else of the bucket (not `webhook-bodies/`).
   */
  grantReadOutputs(grantee: iam.IGrantable): iam.Grant {
    return this.grantObjects(grantee, 's3:GetObject', BUCKET_PREFIXES.outputs, BUCKET_PREFIXES.results);
  }

  /**
   * Reading job records, as `GET /jobs/{id}` and `GET /jobs` do: `dynamodb:GetItem` and `dynamodb:BatchGetItem`
   * (a page of jobs) on the jobs table (any item of it: quota, callback and admission items share the table) and
   * `dynamodb:Query` on its `byOwnerShard` index. No writes, no scans.
   */
  grantReadJobs(grantee: iam.IGrantable): iam.Grant {
    return this.grantJobItems(grantee, 'GetItem', 'BatchGetItem').combine(this.grantQueryIndex(grantee, 'byOwner'));
  }

  private indexArn(index: JobsTableIndex): string {
    return `${this.table.tableArn}/index/${JOBS_TABLE_SCHEMA[index].indexName}`;
  }
}

function createTable(scope: Construct, removalPolicy: RemovalPolicy): dynamodb.Table {
  const s = JOBS_TABLE_SCHEMA;
  const string = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
  const table = new dynamodb.Table(scope, 'JobsTable', {
    partitionKey: string(s.partitionKey),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
    timeToLiveAttribute: s.timeToLive,
    removalPolicy,
  });
  table.addGlobalSecondaryIndex({
    indexName: s.byPrediction.indexName,
    partitionKey: string(s.byPrediction.partitionKey),
    projectionType: dynamodb.ProjectionType.KEYS_ONLY,
  });
  table.addGlobalSecondaryIndex({
    indexName: s.byOwner.indexName,
    partitionKey: string(s.byOwner.partitionKey),
    sortKey: string(s.byOwner.sortKey),
    projectionType: dynamodb.ProjectionType.KEYS_ONLY,
  });
  table.addGlobalSecondaryIndex({
    indexName: s.unfinishedByOwner.indexName,
    partitionKey: string(s.unfinishedByOwner.partitionKey),
    projectionType: dynamodb.ProjectionType.KEYS_ONLY,
  });
  table.addGlobalSecondaryIndex({
    indexName: s.unfinished.indexName,
    partitionKey: string(s.unfinished.partitionKey),
    sortKey: string(s.unfinished.sortKey),
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: [...s.unfinished.projected],
  });
  table.addGlobalSecondaryIndex({
    indexName: s.waiting.indexName,
    partitionKey: string(s.waiting.partitionKey),
    sortKey: string(s.waiting.sortKey),
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: [...s.waiting.projected],
  });
  return table;
}

function createBucket(scope: Construct, props: JobsStorageProps): s3.Bucket {
  const { removalPolicy } = props;
  const secure = {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    removalPolicy,
    autoDeleteObjects: false,
  };
  const accessLogs = new s3.Bucket(scope, 'AccessLogsBucket', {
    ...secure,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    lifecycleRules: [{ expiration: Duration.days(90) }],
  });
  return new s3.Bucket(scope, 'OutputBucket', {
    ...secure,
    serverAccessLogsBucket: accessLogs,
    serverAccessLogsPrefix: ACCESS_LOG_PREFIX,
    lifecycleRules: [
      // Large webhook bodies only need to live until the consumer has read them.
      { prefix: `${BUCKET_PREFIXES.webhookBodies}/`, expiration: Duration.days(WEBHOOK_BODY_RETENTION_DAYS) },
      { abortIncompleteMultipartUploadAfter: Duration.days(1) },
      { id: 'Uploads', prefix: `${BUCKET_PREFIXES.uploads}/`, expiration: Duration.days(props.uploadRetentionDays) },
      ...retentionRules(props.outputRetentionDays),
    ],
    // Browsers upload inputs with the presigned PUT and read outputs with the presigned GET, from the apps' own
    // origins: the signature is the authorization, so any origin may send one (it still needs a signed URL).
    cors: [
      {
        allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET],
        allowedOrigins: ['*'],
        allowedHeaders: ['content-type'],
        maxAge: 3600,
      },
    ],
  });
}

/**
 * Retention by lifecycle rules, never by a scan: the deployment's own (`outputRetention`) over the prefixes a job
 * writes, and one rule per value a job may choose (`retentionDays`), on the tag its objects carry. Where both
 * apply, S3 expires the object at the earlier date.
 */
function retentionRules(outputRetentionDays: number | undefined): s3.LifecycleRule[] {
  const deployment: s3.LifecycleRule[] =
    outputRetentionDays === undefined
      ? []
      : [BUCKET_PREFIXES.outputs, BUCKET_PREFIXES.results].map((prefix) => ({
          id: `Retention-${prefix}`,
          prefix: `${prefix}/`,
          expiration: Duration.days(outputRetentionDays),
        }));
  const perJob = RETENTION_DAYS_CHOICES.map((days) => ({
    id: `JobRetention-${days}d`,
    tagFilters: { [RETENTION_TAG]: String(days) },
    expiration: Duration.days(days),
  }));
  return [...deployment, ...perJob];
}
