/**
 * The logging the handlers need. Powertools' Logger satisfies it in AWS and locally (JSON lines); tests may
 * pass a silent one. Structured fields, never interpolated strings, so logs can be queried by job id.
 */
export interface Log {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}
