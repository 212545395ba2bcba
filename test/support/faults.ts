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

  constructor(private readonly crashBeforeCall?: number) {}

  wrap<T extends object>(name: string, target: T): T {
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value = Reflect.get(object, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const call = `${name}.${String(property)}`;
          if (this.dead) throw new Crash(call);
          if (this.calls.length + 1 === this.crashBeforeCall) {
            this.dead = true;
            throw new Crash(call);
          }
          this.calls.push(call);
          return value.apply(object, args);
        };
      },
    });
  }
}
