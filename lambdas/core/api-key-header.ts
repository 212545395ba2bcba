import { headerOf } from './webhook-signature';

/** What a keyed request without a valid key is told (by the functions, and by the local gateway before them). */
export const API_KEY_REQUIRED = 'A valid API key is required: the x-api-key header, or Authorization: Bearer <key>';

/**
 * The API key a request presents: `x-api-key` (API Gateway's own header), else `Authorization: Bearer <key>`, the way
 * Replicate's official clients send their token (`Token <key>`, their older scheme, too). Undefined when neither
 * holds one. Whether the key is valid is API Gateway's to say: it looks the key up in its usage plans.
 */
export function apiKeyOf(headers: Record<string, string | undefined> | null | undefined): string | undefined {
  const header = headerOf(headers, 'x-api-key')?.trim();
  if (header) return header;
  const match = /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(headerOf(headers, 'authorization') ?? '');
  return match?.[1];
}
