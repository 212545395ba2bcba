import type { Operation } from './operation';

/** `GET /health`: answering at all means the function runs and its configuration loaded. */
export const healthOperation: Operation = {
  name: 'health',
  method: 'GET',
  path: '/health',
  function: 'status',
  apiKeyRequired: false,
  summary: 'Health check',
  success: { status: 200, description: 'The service can take requests', schema: 'health' },
  errors: [],
  handle: async () => ({ body: { status: 'ok' } }),
};
