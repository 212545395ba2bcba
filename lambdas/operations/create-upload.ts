import { CreateUploadBody, parseCreateUpload } from '../core/uploads';
import { createUpload } from '../use-cases/create-upload';
import type { Operation } from './operation';

/** `POST /uploads`: a signed PUT for one input file, sent straight to S3; its `upload:` reference goes in a job's input. */
export const createUploadOperation: Operation = {
  name: 'createUpload',
  method: 'POST',
  path: '/uploads',
  function: 'submit',
  apiKeyRequired: true,
  summary: 'Get a URL to upload an input file to (its type and exact size are signed into it)',
  request: { body: CreateUploadBody },
  success: {
    status: 201,
    description: 'The upload URL, the headers to send with it, and the reference',
    schema: 'upload',
  },
  errors: ['unauthorized', 'invalid_json', 'body_too_large', 'validation_failed', 'internal_error'],
  async handle(request, deps) {
    const upload = await createUpload(
      deps,
      request.owner,
      parseCreateUpload(request.body, deps.settings.uploads.maxBytes),
    );
    return { body: upload };
  },
};
