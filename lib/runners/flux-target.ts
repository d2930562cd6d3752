import { FluxQueryError, type InfluxConnection, runFluxQuery } from '../influx/flux-query';
import type { TargetPolicy } from '../net/address-policy';
import { redactUrl } from '../net/safe-http';
import type { TargetRunContext } from './http-target';
import type { FluxTarget } from './target';

/** The InfluxDB the operator configures, for tasks that name none; its token is read on first use. */
export interface DeploymentInflux {
  url: string;
  org?: string | undefined;
  token(): Promise<string | undefined>;
}

export interface FluxRunDeps {
  policy: TargetPolicy;
  deployment?: DeploymentInflux | undefined;
}

/**
 * Runs a task's Flux script on its InfluxDB: the target's own `url`, or the deployment's.
 * The log shows where, how many rows and tables came back and how long it took; an
 * InfluxDB error fails the run with InfluxDB's message.
 */
export async function runFluxTarget(
  target: FluxTarget,
  script: string | undefined,
  ctx: TargetRunContext,
  deps: FluxRunDeps,
): Promise<void> {
  if (!script) throw new Error('the task has no Flux script to run');
  const { connection, policy } = await connectionFor(target, deps);
  const shown = `Flux query on ${redactUrl(connection.url)}`;
  const started = Date.now();
  try {
    const outcome = await runFluxQuery(
      connection,
      { script, now: ctx.run.scheduledFor, signal: ctx.signal, timeoutMs: ctx.timeoutMs },
      policy,
    );
    const more = outcome.truncated ? ' (answer truncated; counted what was read)' : '';
    ctx.log(
      `${shown} -> ${outcome.rows} rows in ${outcome.tables} tables in ${Date.now() - started} ms${more}`,
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const status = error instanceof FluxQueryError && error.status ? ` (HTTP ${error.status})` : '';
    ctx.log(`${shown} failed after ${Date.now() - started} ms${status}: ${message}`);
    throw new Error(`flux query failed: ${message}`);
  }
}

async function connectionFor(
  target: FluxTarget,
  deps: FluxRunDeps,
): Promise<{ connection: InfluxConnection; policy: TargetPolicy }> {
  if (target.url !== undefined) {
    return { connection: { url: target.url, org: target.org, headers: target.headers }, policy: deps.policy };
  }
  return deploymentConnection(
    deps.deployment,
    deps.policy,
    'Flux tasks',
    'or the task names its own with target.url',
  );
}

/**
 * The operator's InfluxDB, with its token, for a script that names no server of its own.
 * The operator chose that server, so it is reachable whatever it resolves to.
 */
export async function deploymentConnection(
  deployment: DeploymentInflux | undefined,
  policy: TargetPolicy,
  what: string,
  alternative?: string,
): Promise<{ connection: InfluxConnection; policy: TargetPolicy }> {
  if (!deployment) {
    throw new Error(
      `no InfluxDB is configured for ${what}: the operator sets one (--influx-url locally, ROTA_INFLUX_URL on AWS)${alternative ? `, ${alternative}` : ''}`,
    );
  }
  const token = await deployment.token();
  return {
    connection: {
      url: deployment.url,
      org: deployment.org,
      ...(token ? { headers: { authorization: `Token ${token}` } } : {}),
    },
    policy: { ...policy, allowedHosts: [...policy.allowedHosts, new URL(deployment.url).hostname] },
  };
}
