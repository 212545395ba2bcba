import type { AwsClients } from '../lambdas/runtime/create-dependencies';

/**
 * Counts every AWS SDK call the stack makes, by service and operation, and the time spent in them, through
 * each client's middleware.
 */
export function countRequests(clients: AwsClients): Map<string, { count: number; ms: number }> {
  const counts = new Map<string, { count: number; ms: number }>();
  for (const [service, client] of Object.entries(clients) as Array<[string, { middlewareStack: MiddlewareStack }]>) {
    client.middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        const key = `${service}.${context.commandName?.replace(/Command$/, '')}`;
        const started = performance.now();
        try {
          return await next(args);
        } finally {
          const entry = counts.get(key) ?? { count: 0, ms: 0 };
          entry.count++;
          entry.ms += performance.now() - started;
          counts.set(key, entry);
        }
      },
      { step: 'initialize', name: 'countRequests' },
    );
  }
  return counts;
}

interface MiddlewareStack {
  add(middleware: unknown, options: { step: 'initialize'; name: string }): void;
}
