import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetHashType, Duration, type ILocalBundling, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import { esbuildOptions, functionEntry, ROTA_ROOT, ROTA_RUNTIME } from './bundling';

export interface RotaFunctionProps {
  /**
   * Short name such as `executor`. It names the service in logs, traces and metrics
   * (`POWERTOOLS_SERVICE_NAME=rota-executor`).
   */
  readonly name: string;

  /**
   * Entry file relative to the Rota root; it must export `handler`.
   * @default `functions/<name>.ts`
   */
  readonly entry?: string;

  /**
   * @default - `Rota <name>`
   */
  readonly description?: string;

  /**
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;

  /**
   * @default 512
   */
  readonly memorySize?: number;

  /**
   * Added to the Powertools and Node.js defaults this construct sets.
   * @default - no extra variables
   */
  readonly environment?: Readonly<Record<string, string>>;

  /**
   * Files copied into the asset beside the bundle: name in the asset → path on disk.
   * @default - none
   */
  readonly files?: Readonly<Record<string, string>>;

  /**
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Applies to the function's log group.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Every Rota Lambda function, with the defaults set once: ARM64, the latest Node.js
 * runtime, the shared esbuild bundle (infra/bundling.ts, split into an entry and lazy
 * chunks), active tracing, 512 MB, and its own log group with a retention.
 *
 * The function gets its own role with no managed policy. AWSLambdaBasicExecutionRole
 * would let it write to any log group in the account; this role may write only to the
 * function's own log group, and every other permission comes from an intent grant.
 */
export class RotaFunction extends lambda.Function {
  /** `rota-<name>`: the Powertools service name and the metrics' `service` dimension. */
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: RotaFunctionProps) {
    const serviceName = `rota-${props.name}`;
    // Siblings rather than children: the function needs both before `this` exists.
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Rota ${props.name} function`,
    });
    logGroup.grantWrite(role);

    super(scope, id, {
      code: bundledCode(functionEntry(props.entry ?? `functions/${props.name}.ts`), props.files ?? {}),
      handler: 'index.handler',
      description: props.description ?? `Rota ${props.name}`,
      runtime: ROTA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      role,
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_METRICS_NAMESPACE: 'Rota',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
    });
    this.serviceName = serviceName;
  }
}

/** Every Rota role carries X-Ray's unavoidable wildcard; the suppression says why, once per role. */
export function suppressTracingWildcard(fn: RotaFunction): void {
  NagSuppressions.addResourceSuppressions(
    fn.role ?? fn,
    [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so AWS requires Resource "*". Every other statement names its resources.',
        appliesTo: ['Resource::*'],
      },
    ],
    true,
  );
}

/** `tasks-api` → `TasksApi`: construct IDs from function names. */
export function pascalCase(name: string): string {
  return name
    .split(/[^a-zA-Z0-9]+/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/**
 * Builds `entry` into the asset with `esbuildOptions()`, the build `npm run build` runs,
 * in this process (esbuild ships its binary), then copies `files` beside it. The asset is
 * named after its output, so an unchanged bundle is an unchanged deployment. The Docker
 * image is never started: local bundling always succeeds or throws.
 */
function bundledCode(entry: string, files: Readonly<Record<string, string>>): lambda.Code {
  const local = new EsbuildBundling(entry, files);
  return lambda.Code.fromAsset(ROTA_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: ROTA_RUNTIME.bundlingImage,
      // Also what keeps two functions' builds apart in the CDK's asset cache, keyed on these options.
      command: ['esbuild', entry],
      local,
    },
  });
}

class EsbuildBundling implements ILocalBundling {
  constructor(
    readonly entry: string,
    readonly files: Readonly<Record<string, string>>,
  ) {}

  tryBundle(outputDir: string): boolean {
    buildSync({ ...esbuildOptions(this.entry, join(outputDir, 'index.mjs')), metafile: false });
    for (const [name, source] of Object.entries(this.files)) copyFileSync(source, join(outputDir, name));
    return true;
  }
}
