import * as z from 'zod';

/** setTimeout's ceiling: a longer delay would fire after 1 ms instead, the opposite of what was asked. */
const MAX_DELAY_MS = 2 ** 31 - 1;
const count = () => z.int().nonnegative();
const delayMs = () => z.number().nonnegative().max(MAX_DELAY_MS);

/**
 * What one prediction does at the simulator, read from an optional `simulate` object in its input (real models
 * never see it). Every field is optional; unknown fields are refused, so a misspelt option fails loudly rather
 * than silently running the default prediction.
 */
export const ScenarioSchema = z
  .strictObject({
    output: z
      .enum(['image', 'images', 'object', 'text', 'tokens', 'number', 'json', 'none'])
      .default('image')
      .describe(
        'The shape of the output: one PNG file, a list of them, an object holding files and values, text, ' +
          'a token list, a number, nested JSON with a file inside, or null. Default "image".',
      ),
    count: count().default(2).describe('How many files an "images" output lists. Default 2.'),
    tokens: count()
      .optional()
      .describe('How many tokens a "tokens" output holds. Default: the five tokens of "Hello from the simulator."'),
    sizeBytes: count()
      .optional()
      .describe(
        'The size of every output file, generated as it is sent so any size stays cheap. ' +
          'Default: a small real file (a 16×16 PNG, a short WAV, a line of text).',
      ),
    imageSize: z
      .tuple([z.int().min(1).max(8192), z.int().min(1).max(8192)])
      .optional()
      .describe('[width, height]: PNG outputs are a gradient of this size instead of the 16×16 one.'),
    fetchInputs: z
      .boolean()
      .optional()
      .describe(
        'true: when created, the prediction downloads every http(s) URL in its input, as Replicate does, and ' +
          'fails if one does not answer 200 (what it fetched: `inputFetches`).',
      ),
    partialOutputs: z
      .boolean()
      .optional()
      .describe(
        'true: while processing, the output is sent as it grows (one more item of a list a step) in `output` ' +
          'webhooks, as a language model streams its tokens; then the prediction ends as usual.',
      ),
    fail: z.string().optional().describe('The prediction fails with this error message.'),
    predictTime: z
      .number()
      .nonnegative()
      .optional()
      .describe(
        "The prediction's `metrics.predict_time` in seconds, when it ends (what Replicate bills by). " +
          'Default: the time it ran.',
      ),
    reject: z.string().optional().describe('Creating the prediction answers 422 with this message.'),
    rateLimit: z.boolean().optional().describe('true: creating the prediction answers 429 with Retry-After: 7.'),
    createFails: z
      .enum(['before_creating', 'after_creating'])
      .optional()
      .describe(
        'Creating the prediction answers 503, having created nothing ("before_creating") or having ' +
          'created a prediction that runs and sends its webhooks all the same ("after_creating").',
      ),
    outputUrl: z.string().optional().describe('A URL returned as the output instead of a simulator file.'),
    files: z
      .array(z.string())
      .optional()
      .describe(
        'The output is this list: a bare file name is a file the simulator serves for this prediction ' +
          '(typed by its extension: "page.html" answers text/html); anything else (a URL, a data: URI) is ' +
          'listed as it is.',
      ),
    webhooks: z.boolean().optional().describe('false: send no webhooks at all (only polling finds out).'),
    stepMs: delayMs()
      .optional()
      .describe(
        'Time between status changes, to slow one prediction down (to cancel it, or to see it time out). ' +
          "Default: the simulator's stepMs.",
      ),
    flaky: count().optional().describe('The first N requests for each output file answer 503.'),
    cutAfterBytes: count()
      .optional()
      .describe('The first request for each output file is cut off after this many bytes.'),
    stallMs: delayMs()
      .optional()
      .describe('A file of `sizeBytes` sends its headers, then waits this long before its body (a slow copy).'),
    getFailures: count().optional().describe('The first N reads of the prediction (GET) answer 500.'),
    webhookBeforeResponse: z
      .boolean()
      .optional()
      .describe(
        'true: the prediction completes and its `completed` webhook is delivered before the create call ' +
          "answers (`responseDelayMs` later): the race where a webhook beats submit's own write.",
      ),
    responseDelayMs: delayMs()
      .default(300)
      .describe('With `webhookBeforeResponse`, how long after the webhook the create call answers. Default 300.'),
  })
  .describe('The `simulate` object of a prediction input: how the simulated prediction behaves.');

export type Scenario = z.output<typeof ScenarioSchema>;

/** The scenario an input asks for (the defaults when it has no `simulate`), or why it cannot be run. */
export function readScenario(input: Record<string, unknown>): { scenario: Scenario } | { problem: string } {
  const parsed = ScenarioSchema.safeParse(input.simulate ?? {});
  if (parsed.success) return { scenario: parsed.data };
  return { problem: `input.simulate is not a valid simulator scenario:\n${z.prettifyError(parsed.error)}` };
}
