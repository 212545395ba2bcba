// Runs fauxqs (SQS + S3 emulator) in a child process. fauxqs ships as ES modules only, which jest's
// CommonJS module registry cannot load; a plain Node child process can, under any parent.
// Prints {"port":N} once listening; exits when its parent closes stdin (so it never outlives it).
import { startFauxqs } from 'fauxqs';

// Queue URLs are http://sqs.<region>.localhost:<port>/<account>/<name> (fauxqs's default host): see emulators.ts.
const server = await startFauxqs({ port: Number(process.env.FAUXQS_PORT ?? 0), logger: false });
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
const stop = async () => {
  await server.stop().catch(() => undefined);
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
