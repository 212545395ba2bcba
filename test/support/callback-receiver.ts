import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Job } from '../../lambdas/core/job';
import type { TestStack } from './local-stack';
import { storedJob } from './records';

/** A callback host that answers `status` (204 unless told otherwise) and notes every request, per job. */
export class CallbackReceiver {
  private readonly server: Server;
  readonly requests = new Map<string, Array<{ at: number; status: number }>>();
  status = 204;
  url = '';

  constructor() {
    this.server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      const { job } = JSON.parse(body);
      const status = this.status;
      this.requests.set(job.id, [...(this.requests.get(job.id) ?? []), { at: Date.now(), status }]);
      res.writeHead(status).end();
    });
  }

  /** When the job's callback was first answered with a 2xx. */
  delivered = (jobId: string): number | undefined =>
    this.requests.get(jobId)?.find((request) => request.status < 300)?.at;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/**
 * A job that has ended, written straight to the table: nothing queues its callback, so a test sends the
 * callback message itself, when it wants, and times the sender alone (not the whole pipeline before it).
 */
export async function endedJob(
  stack: TestStack,
  owner: string,
  callbackUrl: string,
  extra: Partial<Job> = {},
): Promise<Job> {
  const now = new Date().toISOString();
  const job = storedJob({
    owner,
    status: 'succeeded',
    rank: 3,
    callbackUrl,
    output: 'done',
    requestHash: 'test',
    createdAt: now,
    updatedAt: now,
    completedAt: now,
    ...extra,
  });
  await stack.deps.jobs.create(job);
  return job;
}
