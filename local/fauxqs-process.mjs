// Runs fauxqs (SQS + S3 emulator) in a child process. fauxqs ships as ES modules only, which jest's
// CommonJS module registry cannot load; a plain Node child process can, under any parent.
// Prints {"port":N} once listening; exits when its parent closes stdin (so it never outlives it).
// Queue URLs are http://sqs.<region>.localhost:<port>/<account>/<name> (fauxqs's default host): see emulators.ts.
import { buildApp } from 'fauxqs';

// buildApp, not startFauxqs: startFauxqs binds every interface, and an emulator that takes unsigned requests
// must only be reachable from this machine.
const app = buildApp({ logger: false });
await app.listen({ port: Number(process.env.FAUXQS_PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: app.server.address().port })}\n`);
const stop = async () => {
  await app.close().catch(() => undefined);
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
