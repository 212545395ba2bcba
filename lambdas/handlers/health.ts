import { jsonResponse, type HttpResponse } from '../core/http';

/** `GET /health`: answering at all means the function runs and its configuration loaded. */
export const health = () => async (): Promise<HttpResponse> => jsonResponse(200, { status: 'ok' });
