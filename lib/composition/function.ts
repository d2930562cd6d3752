import { type ConfigNeed, requireFunctionConfig } from '../function-config';
import { rotaHandler } from '../observability/aws-calls';
import { withLambdaContext } from '../observability/logger';
import { createRota, type Rota } from './root';

/**
 * One Rota function: its name in the construct, the settings it cannot start without,
 * and how its handler is built from a composition root. functions/definitions/*.ts
 * declare them without side effects, so local mode can build every one from its own root.
 */
export interface FunctionDefinition<Args extends unknown[] = never[], Result = unknown> {
  readonly name: string;
  readonly needs: readonly ConfigNeed[];
  build(rota: Rota): (...args: Args) => Promise<Result>;
}

export function defineFunction<Args extends unknown[], Result>(
  definition: FunctionDefinition<Args, Result>,
): FunctionDefinition<Args, Result> {
  return definition;
}

/**
 * The handler as Lambda and local mode call it: in the function's recorder scope (IAM
 * contract), its log lines naming the Lambda context it was called with.
 */
export function instantiate<Args extends unknown[], Result>(
  definition: FunctionDefinition<Args, Result>,
  rota: Rota,
) {
  const handler = definition.build(rota);
  return rotaHandler(definition.name, (...args: Args) => withLambdaContext(args[1], () => handler(...args)));
}

/**
 * A Lambda entry point (functions/*.ts), at module scope: the environment parsed once
 * against the function's needs, the root built from it, the handler from the root.
 */
export function lambdaHandler<Args extends unknown[], Result>(
  definition: FunctionDefinition<Args, Result>,
  env: Readonly<Record<string, string | undefined>>,
) {
  return instantiate(definition, createRota(requireFunctionConfig(definition.needs, env)));
}
