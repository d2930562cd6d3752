import type { RotaConfig } from '../config';

/**
 * The composition root: one per process. It holds the configuration, parsed once, and
 * builds every client, store, service and runner from it, each the first time something
 * asks for it (`get`) and never again. Lambda entries build one at cold start from their
 * environment (lib/composition/function.ts); local mode builds one from its own config
 * object (local/start.ts). Nothing in lib/ keeps a process-wide instance of its own.
 *
 * The parts are plain functions in lib/composition/*.ts, so a function's bundle holds
 * only the parts its handler asks for: the authorizer's carries no SQS client or runner.
 */
/** Static AWS credentials (the SDK's `AwsCredentialIdentity`). */
export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Rota {
  readonly config: RotaConfig;
  /** AWS credentials for every client, when not the SDK's default chain (local mode's emulators). */
  readonly credentials?: StaticCredentials | undefined;
  /** The part, built from this root on first use and shared ever after. */
  get<T>(part: Part<T>): T;
}

/** Builds one thing from the root (and other parts). */
export type Part<T> = (rota: Rota) => T;

export interface RotaOptions {
  credentials?: StaticCredentials;
}

export function createRota(config: RotaConfig, options: RotaOptions = {}): Rota {
  const built = new Map<Part<unknown>, unknown>();
  const building = new Set<Part<unknown>>();
  const rota: Rota = {
    config,
    credentials: options.credentials,
    get<T>(part: Part<T>): T {
      if (built.has(part)) return built.get(part) as T;
      if (building.has(part)) throw new Error(`composition cycle: ${part.name || 'a part'} needs itself`);
      building.add(part);
      try {
        const value = part(rota);
        built.set(part, value);
        return value;
      } finally {
        building.delete(part);
      }
    },
  };
  return rota;
}
