import { randomUUID } from 'node:crypto';

/**
 * EventBridge's `rate()` schedule, locally: invokes the target with a `Scheduled Event`. A tick that finds
 * the previous invocation still running is skipped (at the deployed rate of minutes this never happens; at a
 * test's sub-second interval it keeps runs from piling up).
 */
export function startSchedule(options: {
  intervalSeconds: number;
  ruleArn: string;
  region: string;
  accountId: string;
  invoke: (event: unknown) => Promise<unknown>;
  onError?: (error: unknown) => void;
}): { stop(): Promise<void> } {
  if (options.intervalSeconds <= 0) return { stop: async () => undefined };
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: options.accountId,
      time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      region: options.region,
      resources: [options.ruleArn],
      detail: {},
    };
    running = options
      .invoke(event)
      .catch((error) => options.onError?.(error))
      .finally(() => (running = undefined));
  }, options.intervalSeconds * 1000);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
