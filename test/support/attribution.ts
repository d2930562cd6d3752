import { asFunction } from '../../lib/observability/aws-calls';

/**
 * `target` with every method run as function `name` would run it, so the AWS calls a
 * harness makes through lib/ are recorded as that function's (test/contract checks
 * them against its role). Objects a method returns (a service scoped to a system) are
 * attributed the same way; promises and their values are left alone.
 */
export function attributed<T extends object>(name: string, target: T): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = asFunction(name, () => value.apply(object, args));
        return result !== null && typeof result === 'object' && !(result instanceof Promise)
          ? attributed(name, result)
          : result;
      };
    },
  });
}
