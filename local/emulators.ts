import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import dynalite from 'dynalite';
import type { AwsClients } from '../lambdas/runtime/create-dependencies';

/**
 * Emulators of the AWS services the stack uses: dynalite (DynamoDB, in-process) and fauxqs (SQS and S3 on one
 * endpoint). They speak the real wire protocols, so the real SDK clients run against them. They start empty:
 * the resources come from the synthesized template (local/cloud/local-resources.ts).
 */
export interface Emulators {
  /** Clients with the emulators' own credentials, straight to them (no IAM): for the local tooling and tests. */
  clients: AwsClients;
  dynamoEndpoint: string;
  /** The S3/SQS endpoint. */
  awsEndpoint: string;
  /** The origin of the queue URLs fauxqs hands out (it finds a queue by its whole URL). */
  queueUrlOrigin: string;
  stop(): Promise<void>;
}

export const REGION = 'us-east-1';
/**
 * The local tooling's own credentials: the IAM proxy verifies their signature, then forwards unauthorized and
 * unrecorded. The secret is new each run, so nobody else can sign with the well-known key id.
 */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: randomBytes(24).toString('hex') };

export async function startEmulators(): Promise<Emulators> {
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
  const dynamoEndpoint = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;
  const fauxqs = await startFauxqsProcess();
  const awsEndpoint = `http://127.0.0.1:${fauxqs.port}`;

  const common = { region: REGION, credentials: EMULATOR_CREDENTIALS };
  const clients: AwsClients = {
    dynamo: new DynamoDBClient({ ...common, endpoint: dynamoEndpoint }),
    sqs: new SQSClient({ ...common, endpoint: awsEndpoint }),
    s3: new S3Client({ ...common, endpoint: awsEndpoint, forcePathStyle: true }),
  };
  return {
    clients,
    dynamoEndpoint,
    awsEndpoint,
    queueUrlOrigin: `http://sqs.${REGION}.localhost:${fauxqs.port}`,
    async stop() {
      for (const client of Object.values(clients)) client.destroy();
      await fauxqs.stop();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}

/** Starts fauxqs in a child process (see fauxqs-process.mjs) and answers once it listens. */
async function startFauxqsProcess(): Promise<{ port: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(__dirname, 'fauxqs-process.mjs')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n')[0];
      if (buffered.includes('\n')) resolve(JSON.parse(line).port);
    });
    child.once('exit', (code) => reject(new Error(`fauxqs exited early (code ${code})`)));
  });
  return {
    port,
    async stop() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
