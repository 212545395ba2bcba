/**
 * The deployment contract: what the construct (`lib/`), the functions (`lambdas/`) and the local stack
 * (`local/`) must agree on; plain TypeScript that imports nothing but itself.
 */
export * from './bucket';
export * from './defaults';
export * from './environment';
export * from './secrets';
export * from './table';
