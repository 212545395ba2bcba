import { operationHandler } from '../../lambdas/http/api-function';
import type { Dependencies } from '../../lambdas/use-cases/dependencies';

/** Operations driven through the one HTTP adapter, as API Gateway's events reach them, over given dependencies. */
export const submitJob = (deps: Dependencies) => operationHandler('submitJob', deps);
export const receiveWebhook = (deps: Dependencies) => operationHandler('receiveWebhook', deps);
