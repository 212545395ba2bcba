import { S3Client } from '@aws-sdk/client-s3';
import { ENV } from '../../contract/environment';
import { S3ObjectStore } from '../../lambdas/adapters/s3-object-store';
import { awsHandler } from '../../lambdas/runtime/aws';

describe('a port or part an entry point did not wire fails loudly when used', () => {
  it('S3ObjectStore refuses a part it was not given', async () => {
    const store = new S3ObjectStore(new S3Client({ region: 'us-east-1' }), 'bucket');
    await expect((async () => store.presignGet('outputs/alice/job_1/0.png', 60))()).rejects.toThrow(
      /presignGet is not wired/,
    );
    await expect(store.upload('outputs/alice/job_1/0.png', Buffer.from('x'), 'text/plain')).rejects.toThrow(
      /multipartUpload is not wired/,
    );
  });

  it('awsHandler gives every port it was not given one that throws when used', async () => {
    const saved = { ...process.env };
    for (const name of [
      'tableName',
      'bucketName',
      'queueUrl',
      'callbackQueueUrl',
      'callbackDeadLetterQueueUrl',
      'admissionQueueUrl',
    ] as const)
      process.env[ENV[name]] = 'unused';
    try {
      const handler = awsHandler(
        () => ({}),
        (deps) => async () => deps.quota.release('alice'),
      );
      await expect(handler({}, {})).rejects.toThrow(/Port quota is not wired/);
    } finally {
      process.env = saved;
    }
  });
});
