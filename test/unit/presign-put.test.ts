import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../lambdas/adapters/s3-object-store';
import { presignGet } from '../../lambdas/adapters/s3-presigner';

describe('presignPut', () => {
  it('signs the exact length and type as headers: S3 refuses any other body', async () => {
    const s3 = new S3Client({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    });
    const store = new S3ObjectStore(s3, 'bucket', { presignGet });
    const { url, headers } = await store.presignPut('uploads/alice/upl_x', { contentType: 'image/png', size: 3 }, 600);
    const signed = new URL(url).searchParams.get('X-Amz-SignedHeaders')!.split(';');
    expect(signed).toEqual(expect.arrayContaining(['content-length', 'content-type', 'host']));
    expect(headers).toEqual({ 'content-type': 'image/png', 'content-length': '3' });
  });
});
