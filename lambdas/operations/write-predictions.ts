import { preferredWaitSeconds } from '../core/prefer-wait';
import { CreatePredictionBody, type PredictionTarget, predictionJobSpec } from '../core/replicate-prediction';
import { parseBoundedJsonBody } from '../core/submit-request';
import { cancelPrediction, createPrediction } from '../use-cases/write-predictions';
import { type ApiRequest, IDEMPOTENCY_KEY_HEADER, type Operation, REPLICATE_ERRORS } from './operation';
import { V1 } from './read-predictions';
import { submitJobOperation } from './submit-job';

/**
 * Replicate's prediction API under `/v1`, in its shapes, errors included: Replicate's official clients work
 * against it with only their base URL changed. Each prediction is a job (core/replicate-prediction.ts). These
 * write (the submit function); operations/read-predictions.ts reads.
 */

const PREFER_WAIT_HEADER = {
  name: 'Prefer',
  schema: {
    type: 'string',
    pattern: '^wait(=\\d+)?$',
    description:
      'wait or wait=N: hold the answer until the prediction ends, at most N s (bare: the longest, ' +
      'maxPreferWaitSeconds: 25 by default, 60 locally); an unfinished prediction is then answered as starting',
  },
};

/** `POST` of a prediction on a version, a model or a deployment: the job is submitted as `POST /jobs` does. */
function createOperation(
  name: string,
  path: string,
  summary: string,
  target: (request: ApiRequest) => PredictionTarget,
): Operation {
  return {
    ...V1,
    name,
    method: 'POST',
    path,
    function: 'submit',
    summary,
    request: { body: CreatePredictionBody, headers: [IDEMPOTENCY_KEY_HEADER, PREFER_WAIT_HEADER] },
    success: { status: 201, description: 'The prediction, as it is when answered', schema: 'prediction' },
    errors: submitJobOperation.errors,
    async handle(request, deps) {
      const arrivedAt = deps.clock().getTime();
      const spec = predictionJobSpec(parseBoundedJsonBody(request.body), target(request), {
        callbackHttpsOnly: deps.settings.callbacks.httpsOnly,
      });
      const waitSeconds = preferredWaitSeconds(request.header('prefer'), {
        max: deps.settings.maxPreferWaitSeconds,
        bareWaitsLongest: true,
      });
      const prediction = await createPrediction(deps, {
        owner: request.owner,
        spec,
        idempotencyKey: request.header('idempotency-key'),
        apiBaseUrl: request.baseUrl,
        waitSeconds,
        arrivedAt,
      });
      const headers: Record<string, string> = { location: prediction.urls.get };
      if (waitSeconds !== undefined) headers['preference-applied'] = `wait=${waitSeconds}`;
      return { body: prediction, headers };
    },
  };
}

const named = (kind: 'model' | 'deployment') => (request: ApiRequest) => ({
  kind,
  owner: request.pathParameters.owner ?? '',
  name: request.pathParameters.name ?? '',
});

export const createPredictionOperation = createOperation(
  'createPrediction',
  '/v1/predictions',
  'Create a prediction on a model version (Replicate-compatible)',
  () => ({ kind: 'version' }),
);

export const createModelPredictionOperation = createOperation(
  'createModelPrediction',
  '/v1/models/{owner}/{name}/predictions',
  "Create a prediction on a model's latest version (Replicate-compatible)",
  named('model'),
);

export const createDeploymentPredictionOperation = createOperation(
  'createDeploymentPrediction',
  '/v1/deployments/{owner}/{name}/predictions',
  'Create a prediction on a Replicate deployment (Replicate-compatible)',
  named('deployment'),
);

export const cancelPredictionOperation: Operation = {
  ...V1,
  name: 'cancelPrediction',
  method: 'POST',
  path: '/v1/predictions/{id}/cancel',
  function: 'submit',
  summary: 'Cancel a prediction; one that already ended is answered as it is (Replicate-compatible)',
  success: { status: 200, description: 'The prediction', schema: 'prediction' },
  errors: ['unauthorized', 'not_found', 'submission_pending', ...REPLICATE_ERRORS, 'internal_error'],
  handle: async (request, deps) => ({
    body: await cancelPrediction(deps, request.owner, request.pathParameters.id ?? '', request.baseUrl),
  }),
};
