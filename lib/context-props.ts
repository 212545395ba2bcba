import { Duration } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import type { ReplicateJobsProps } from './replicate-jobs';

/**
 * The local server's settings as CDK context (`cdk deploy -c outputHosts=a,b -c publicUrl=https://…`), so
 * the same knobs exist in both places.
 */
export function propsFromContext(node: Node): ReplicateJobsProps {
  const text = (key: string): string | undefined => {
    const value = node.tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const number = (key: string): number | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`Context ${key} must be a positive number`);
    return parsed;
  };
  const duration = (key: string) => {
    const value = number(key);
    return value === undefined ? undefined : Duration.seconds(value);
  };
  return {
    outputHosts: text('outputHosts')?.split(',').map((host) => host.trim()).filter(Boolean),
    replicateApiBaseUrl: text('replicateApiBaseUrl'),
    publicUrl: text('publicUrl'),
    consumerTimeout: duration('consumerTimeoutSeconds'),
    consumerMaxConcurrency: number('consumerMaxConcurrency'),
    presignedUrlExpiry: duration('presignedUrlSeconds'),
    jobTimeout: duration('jobTimeoutSeconds'),
    reconcileInterval: duration('reconcileIntervalSeconds'),
    reconcileAfter: duration('reconcileAfterSeconds'),
    maxOutputBytes: number('maxOutputBytes'),
  };
}
