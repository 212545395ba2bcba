import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

/** The 8 NUL bytes a streaming Lambda writes after its JSON prelude (awslambda.HttpResponseStream). */
const DELIMITER = Buffer.alloc(8);
/** A prelude is a status and headers: far under this; a body that never delimits one is no streaming response. */
const MAX_PRELUDE_BYTES = 64 * 1024;

interface Prelude {
  statusCode?: number;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  cookies?: string[];
}

/**
 * API Gateway's streaming Lambda proxy integration (response transfer mode STREAM): the function's response stream
 * starts with a JSON prelude (status, headers, cookies) and 8 NUL bytes; the client gets that status and those
 * headers, then every byte after as the function writes it. A stream without a prelude is the integration's 502.
 * If the function fails mid-stream the client's response is cut; if the client goes away the function runs on (as in
 * AWS), its bytes discarded.
 */
export function relayStream(body: Readable, res: ServerResponse, badGateway: () => void): void {
  let head: Buffer = Buffer.alloc(0);
  let relaying = false;
  res.once('close', () => {
    if (!res.writableEnded) body.resume(); // the client left: drain the function's output, unread
  });
  body.on('data', (chunk: Buffer) => {
    if (relaying) {
      if (!res.destroyed && !res.write(chunk)) {
        body.pause();
        res.once('drain', () => body.resume());
      }
      return;
    }
    head = Buffer.concat([head, chunk]);
    const at = head.indexOf(DELIMITER);
    if (at < 0) {
      if (head.length > MAX_PRELUDE_BYTES) {
        body.destroy();
        badGateway();
      }
      return;
    }
    let prelude: Prelude;
    try {
      prelude = JSON.parse(head.subarray(0, at).toString('utf8')) as Prelude;
    } catch {
      body.destroy();
      return badGateway();
    }
    relaying = true;
    res.writeHead(prelude.statusCode ?? 200, headersOf(prelude));
    res.flushHeaders();
    const rest = head.subarray(at + DELIMITER.length);
    if (rest.length > 0) res.write(rest);
  });
  body.once('end', () => {
    if (relaying) res.end();
    else badGateway();
  });
  body.once('error', () => {
    if (relaying) res.destroy();
    else badGateway();
  });
}

function headersOf(prelude: Prelude): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = { ...prelude.headers };
  for (const [name, values] of Object.entries(prelude.multiValueHeaders ?? {})) headers[name] = values;
  if (prelude.cookies?.length) headers['set-cookie'] = prelude.cookies;
  return headers;
}
