import { randomBytes } from 'node:crypto';
import type { Scenario } from './scenario';

/** A prediction as Replicate's API answers it (and as its webhooks carry it). */
export interface SimulatedPrediction {
  id: string;
  model?: string;
  version?: string;
  input: Record<string, unknown>;
  status: string;
  output: unknown;
  error: string | null;
  logs: string;
  webhook?: string;
  webhook_events_filter?: string[];
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  metrics: Record<string, number>;
  urls: Record<string, string>;
}

/** The events a webhook can be sent for, as Replicate names them in `webhook_events_filter`. */
export type PredictionEvent = 'start' | 'output' | 'logs' | 'completed';

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'aborted']);
export const isTerminal = (prediction: SimulatedPrediction) => TERMINAL.has(prediction.status);

/** What a running prediction needs from the simulator around it. */
export interface LifecycleContext {
  /** Time between status changes when the scenario does not choose its own. */
  stepMs: number;
  /** Runs an action later, on a timer the simulator cancels when it stops. */
  later(ms: number, action: () => void): void;
  /** Tells the prediction's webhook (if any) that an event happened. */
  notify(prediction: SimulatedPrediction, event: PredictionEvent): void;
  /** The URL at which the simulator serves a file of this prediction. */
  fileUrl(predictionId: string, name: string): string;
}

type WebhookRequest = Pick<SimulatedPrediction, 'webhook' | 'webhook_events_filter'>;

/** A new prediction, `starting`, as the create call answers it. */
export function newPrediction(
  request: { model?: string; version?: string; input: Record<string, unknown> } & WebhookRequest,
  apiBaseUrl: string,
): SimulatedPrediction {
  const id = randomBytes(13).toString('hex').slice(0, 26);
  const now = new Date().toISOString();
  return {
    id,
    model: request.model ?? 'simulator/model',
    version: request.version ?? 'simulated',
    input: request.input,
    status: 'starting',
    output: null,
    error: null,
    logs: '',
    webhook: request.webhook,
    webhook_events_filter: request.webhook_events_filter,
    created_at: now,
    started_at: null,
    completed_at: null,
    metrics: {},
    urls: { get: `${apiBaseUrl}/predictions/${id}`, cancel: `${apiBaseUrl}/predictions/${id}/cancel` },
  };
}

/**
 * Walks a prediction through its life, one step apart: `start` sent, then `processing` (with logs), then
 * `succeeded` with its output or `failed` with the scenario's error. A prediction canceled meanwhile stays canceled.
 */
export function runPrediction(prediction: SimulatedPrediction, scenario: Scenario, context: LifecycleContext) {
  const step = scenario.stepMs ?? context.stepMs;
  // Each step is skipped once the prediction has ended: a cancel wins over the steps still to come.
  const afterStep = (action: () => void) =>
    context.later(step, () => {
      if (!isTerminal(prediction)) action();
    });
  afterStep(() => {
    context.notify(prediction, 'start');
    afterStep(() => {
      prediction.status = 'processing';
      prediction.started_at = new Date().toISOString();
      prediction.logs = 'Running the simulated model\n';
      context.notify(prediction, 'logs');
      const complete = () => {
        finish(prediction, scenario, context);
        context.notify(prediction, 'completed');
      };
      afterStep(
        scenario.partialOutputs ? () => streamOutput(prediction, scenario, context, afterStep, complete) : complete,
      );
    });
  });
}

/**
 * A language model's output as it is made: the output so far, one more piece a step, each sent as an `output` webhook
 * while the prediction is still `processing`; then `done`.
 */
function streamOutput(
  prediction: SimulatedPrediction,
  scenario: Scenario,
  context: LifecycleContext,
  afterStep: (action: () => void) => void,
  done: () => void,
) {
  const whole = outputFor(prediction.id, scenario, context.fileUrl);
  const pieces = Array.isArray(whole) ? whole : [whole];
  const send = (count: number) => {
    prediction.output = pieces.slice(0, count);
    context.notify(prediction, 'output');
    afterStep(count < pieces.length ? () => send(count + 1) : done);
  };
  send(1);
}

/** Ends a running prediction as its scenario says: failed with its error, or succeeded with its output. */
function finish(prediction: SimulatedPrediction, scenario: Scenario, context: LifecycleContext) {
  prediction.completed_at = new Date().toISOString();
  const ranMs = Date.parse(prediction.completed_at) - Date.parse(prediction.started_at ?? prediction.completed_at);
  prediction.metrics = { predict_time: scenario.predictTime ?? ranMs / 1000 };
  if (scenario.fail !== undefined) {
    prediction.status = 'failed';
    prediction.error = scenario.fail;
  } else {
    prediction.status = 'succeeded';
    prediction.output = outputFor(prediction.id, scenario, context.fileUrl);
    context.notify(prediction, 'output');
  }
}

/** Ends a prediction at once, succeeded (for the race where its webhook beats the create call's answer). */
export function succeedAtOnce(prediction: SimulatedPrediction, scenario: Scenario, context: LifecycleContext) {
  prediction.status = 'succeeded';
  prediction.started_at = prediction.completed_at = new Date().toISOString();
  prediction.output = outputFor(prediction.id, scenario, context.fileUrl);
}

/** Cancels a prediction that has not ended yet (an ended one is left as it is, as Replicate does). */
export function cancelPrediction(prediction: SimulatedPrediction, context: Pick<LifecycleContext, 'notify'>) {
  if (isTerminal(prediction)) return;
  prediction.status = 'canceled';
  prediction.completed_at = new Date().toISOString();
  context.notify(prediction, 'completed');
}

/**
 * A `Cancel-After` deadline reached, as Replicate ends it: `aborted` when the prediction had not started running,
 * `canceled` when it had.
 */
export function deadlineReached(prediction: SimulatedPrediction, context: Pick<LifecycleContext, 'notify'>) {
  if (isTerminal(prediction)) return;
  prediction.status = prediction.started_at ? 'canceled' : 'aborted';
  prediction.completed_at = new Date().toISOString();
  context.notify(prediction, 'completed');
}

/** The output a succeeded prediction holds: values, and URLs of files the simulator serves. */
export function outputFor(id: string, scenario: Scenario, fileUrl: LifecycleContext['fileUrl']): unknown {
  const file = (name: string) => fileUrl(id, name);
  if (scenario.outputUrl !== undefined) return scenario.outputUrl;
  if (scenario.files) return scenario.files.map((name) => (/^[\w.-]+$/.test(name) ? file(name) : name));
  switch (scenario.output) {
    case 'image':
      return file('out-0.png');
    case 'images':
      return Array.from({ length: scenario.count }, (_, i) => file(`out-${i}.png`));
    case 'object':
      return { image: file('image.png'), audio: file('speech.wav'), caption: 'a simulated caption', seed: 42 };
    case 'text':
      return 'Hello from the Replicate simulator.';
    case 'tokens':
      return scenario.tokens !== undefined
        ? Array.from({ length: scenario.tokens }, (_, i) => ` token${i}`)
        : ['Hello', ' from', ' the', ' simulator', '.'];
    case 'number':
      return 42;
    case 'json':
      return { scores: [0.1, 0.9], nested: { files: [file('nested.txt')], label: 'cat' } };
    case 'none':
      return null;
  }
}
