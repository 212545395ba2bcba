import * as z from '../core/schema';
import { callbackSecretOf } from '../use-cases/callback-secret';
import { getPrediction, listPredictions } from '../use-cases/read-predictions';
import { PageQuery, parseQuery } from './list-jobs';
import type { Operation } from './operation';

/** What every `/v1` operation shares: an API key, and Replicate's error shape (operations/write-predictions.ts). */
export const V1 = { apiKeyRequired: true, errorShape: 'replicate' } as const;

export const getPredictionOperation: Operation = {
  ...V1,
  name: 'getPrediction',
  method: 'GET',
  path: '/v1/predictions/{id}',
  function: 'status',
  summary: "Get a prediction (a job), with our copies' URLs as its output (Replicate-compatible)",
  success: { status: 200, description: 'The prediction', schema: 'prediction' },
  errors: ['unauthorized', 'not_found', 'internal_error'],
  handle: async (request, deps) => ({
    body: await getPrediction(deps, request.owner, request.pathParameters.id ?? '', request.baseUrl),
  }),
};

export const ListPredictionsQuery = z.strictObject(PageQuery);

export const listPredictionsOperation: Operation = {
  ...V1,
  name: 'listPredictions',
  method: 'GET',
  path: '/v1/predictions',
  function: 'status',
  summary: "List the owner's predictions, newest first, by Replicate's cursor pages (Replicate-compatible)",
  request: { query: ListPredictionsQuery },
  success: { status: 200, description: 'A page: results, and next (the next page, or null)', schema: 'predictionList' },
  errors: ['unauthorized', 'invalid_query', 'internal_error'],
  handle: async (request, deps) => ({
    body: await listPredictions(deps, request.owner, parseQuery(ListPredictionsQuery, request), request.baseUrl),
  }),
};

/**
 * `GET /v1/webhooks/default/secret`: Replicate's route for the secret its webhooks are signed with, answering the
 * caller's callback signing secret (`GET /callbacks/secret`) in Replicate's shape (`{"key"}`), so
 * `replicate.webhooks.default.secret.get()` hands `validateWebhook` the right one.
 */
export const webhookSecretOperation: Operation = {
  ...V1,
  name: 'getWebhookSecret',
  method: 'GET',
  path: '/v1/webhooks/default/secret',
  function: 'status',
  summary: "The caller's webhook signing secret, as Replicate's route answers it (Replicate-compatible)",
  success: { status: 200, description: 'The secret', schema: 'webhookSecret' },
  errors: ['unauthorized', 'internal_error'],
  handle: async (request, deps) => ({
    body: { key: await callbackSecretOf(deps, request.owner) },
  }),
};
