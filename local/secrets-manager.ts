import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The local Secrets Manager. No emulator exists on the registry, so this is the smallest one that speaks its JSON
 * protocol for the two calls the project makes (GetSecretValue, PutSecretValue). The real SDK client talks to it.
 */
export async function startSecretsManager(initial: Record<string, string> = {}) {
  const values = new Map(Object.entries(initial));
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const target = String(req.headers['x-amz-target'] ?? '')
      .split('.')
      .pop();
    const input = JSON.parse(body || '{}');
    const reply = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(payload));
    };
    if (!values.has(input.SecretId)) return reply(400, { __type: 'ResourceNotFoundException', message: 'not found' });
    if (target === 'GetSecretValue')
      return reply(200, { ARN: input.SecretId, Name: input.SecretId, SecretString: values.get(input.SecretId) });
    if (target === 'PutSecretValue') {
      values.set(input.SecretId, input.SecretString);
      return reply(200, { ARN: input.SecretId, Name: input.SecretId, VersionId: 'v' });
    }
    reply(400, { __type: 'InvalidRequestException', message: `unsupported ${target}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    values,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
