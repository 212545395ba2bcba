import { apiFunction } from '../handlers/api-function';
import { awsDependencies } from '../runtime/aws';

/** Lambda entry points of the API functions; the construct points each function at its export. */
export const submit = apiFunction('submit', awsDependencies);
export const status = apiFunction('status', awsDependencies);
export const webhook = apiFunction('webhook', awsDependencies);
