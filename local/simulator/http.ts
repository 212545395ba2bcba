import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers a JSON body, as every Replicate API reply (errors included) is. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A request's whole body as text (the simulator's callers are the tests and the local stack: no size limit). */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
