import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

const CONSOLE_PAGE = readFileSync(join(__dirname, 'console.html'), 'utf8');
/** The page's one inline script, allowed by its hash: no other script can run on the page. */
const SCRIPT_HASH = createHash('sha256')
  .update(/<script>([\s\S]*?)<\/script>/.exec(CONSOLE_PAGE)![1])
  .digest('base64');

/**
 * The job console (a static page over the same API), local only: GET /console. It fetches only the API, and
 * shows previews only from `outputOrigin` (where presigned output URLs point); it sends no referrer, so the
 * page's address never travels with a request.
 */
export function consolePage(outputOrigin: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  const policy = [
    "default-src 'none'",
    `connect-src 'self' ${outputOrigin}`, // uploads go straight to the bucket (a presigned PUT)
    `img-src ${outputOrigin} data:`,
    `media-src ${outputOrigin}`,
    `script-src 'sha256-${SCRIPT_HASH}'`,
    "style-src 'unsafe-inline'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return (req, res) => {
    // The raw path: `new URL` throws on some (`//`), and this runs outside the gateway's error handling.
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/console') return false;
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': policy,
      'referrer-policy': 'no-referrer',
    });
    res.end(CONSOLE_PAGE);
    return true;
  };
}
