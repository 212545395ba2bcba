import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

/** The job console (a static page over the same API), local only: GET /console. */
const CONSOLE_PAGE = readFileSync(join(__dirname, 'console.html'));
export function serveConsole(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://local').pathname !== '/console') return false;
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'; img-src * data:; media-src *; script-src 'unsafe-inline'; style-src 'unsafe-inline'" });
  res.end(CONSOLE_PAGE);
  return true;
}
