import type { Dependencies } from '../../lambdas/use-cases/dependencies';

/**
 * Fault injection around the adapters: the process "dies" just before the Nth adapter call. From then on
 * every call throws, as nothing more can happen in a dead process, so the crash lands between two writes.
 */
export class Crash extends Error {
  constructor(at: string) {
    super(`injected crash before ${at}`);
    this.name = 'Crash';
  }
}

export class FaultPlan {
  readonly calls: string[] = [];
  dead = false;

  /**
   * @param crashBeforeCall the 1-based adapter call before which the process dies
   * @param failOnce instead of dying, only that one call fails (a passing fault: SQS answering 500 once)
   */
  constructor(
    private readonly crashBeforeCall?: number,
    private readonly failOnce = false,
  ) {}

  wrap<T extends object>(name: string, target: T): T {
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value = Reflect.get(object, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const call = `${name}.${String(property)}`;
          // Adapter methods are async: faults surface as rejected promises, as real ones do.
          if (this.dead) return Promise.reject(new Crash(call));
          this.calls.push(call);
          if (this.calls.length === this.crashBeforeCall) {
            this.dead = !this.failOnce;
            return Promise.reject(new Crash(call));
          }
          return value.apply(object, args);
        };
      },
    });
  }
}

/** The dependencies with every adapter behind the fault plan (the clock, settings and log stay as they are). */
export function withFaults(deps: Dependencies, plan: FaultPlan): Dependencies {
  return {
    ...deps,
    jobs: plan.wrap('jobs', deps.jobs),
    objects: plan.wrap('objects', deps.objects),
    outputs: plan.wrap('outputs', deps.outputs),
    replicate: plan.wrap('replicate', deps.replicate),
    queue: plan.wrap('queue', deps.queue),
    quota: plan.wrap('quota', deps.quota),
    admission: plan.wrap('admission', deps.admission),
    admissionKicks: plan.wrap('admissionKicks', deps.admissionKicks),
    callbacks: plan.wrap('callbacks', deps.callbacks),
  };
}
