/**
 * S3's response-header overrides: a signed GetObject may set six headers of its answer through query parameters
 * (`response-content-disposition=attachment` is how a presigned URL makes a browser save a file). The S3 emulator
 * ignores them, so the proxy applies them to a successful GET as S3 does; S3 refuses them on anonymous requests,
 * which the proxy never forwards.
 */
const OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

export function s3ResponseOverrides(
  method: string | undefined,
  status: number,
  query: URLSearchParams,
): Record<string, string> {
  if (method !== 'GET' || status < 200 || status >= 300) return {};
  const headers: Record<string, string> = {};
  for (const [parameter, header] of Object.entries(OVERRIDES)) {
    const value = query.get(parameter);
    if (value !== null) headers[header] = value;
  }
  return headers;
}
