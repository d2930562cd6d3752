import { createValidatedPolicy, validateResourcePolicy } from '@cloud-copilot/iam-policy';
import {
  isConditionKeyArray,
  runSimulation,
  runUnsafeSimulation,
  type Simulation,
  typeForContextKey,
} from '@cloud-copilot/iam-simulate';
import type { RecordedCall } from '../../lib/observability/aws-calls';
import { ACCOUNT, type PolicyDocument, REGION, type SynthesizedService } from '../support/template';

export interface Evaluated {
  fn: string;
  action: string;
  /** What the resource is to Rota: `table`, `table/index/byOrgType`, `runsQueue`, … */
  kind: string;
  arn: string;
  context: Record<string, string[]>;
  via?: string | undefined;
  decision: 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied' | 'Error';
  detail?: string;
}

/** Why a recorded call cannot be evaluated at all: that alone breaks the contract. */
export interface Unmappable {
  call: RecordedCall;
  reason: string;
}

/** The resource a recorded call touched, as an ARN of this template. */
export function resourceOf(
  call: RecordedCall,
  stack: SynthesizedService,
): { kind: string; arn: string } | string {
  if (!call.role) return `no resource role was declared for ${call.service} resource "${call.resource}"`;
  if (call.role === 'target') return { kind: `target (${call.service})`, arn: targetArn(call) };
  const base = stack.arnOf(call.role);
  if (call.index) return { kind: `${call.role}/index/${call.index}`, arn: `${base}/index/${call.index}` };
  return { kind: call.role, arn: base };
}

/**
 * A target's ARN in this account, as the operator lists it (`targetQueueArns`, …): the
 * emulators give queues and topics ARNs of their own account.
 */
export function targetArn(call: RecordedCall): string {
  const name = (call.resource ?? '').split(':').pop() ?? '';
  switch (call.service) {
    case 'sqs':
      return `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
    case 'sns':
      return `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;
    case 'events':
      return `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${name}`;
    case 'lambda':
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
    default:
      throw new Error(`no target ARN rule for ${call.service}`);
  }
}

/** Evaluates one call with a real IAM policy evaluator: the role's identity policies plus the resource's policy. */
export async function evaluate(
  call: RecordedCall,
  stack: SynthesizedService,
  resource: { kind: string; arn: string },
): Promise<Evaluated> {
  const role = stack.roles.get(call.fn);
  if (!role) throw new Error(`${call.fn} is not a function of the ${stack.name} stack`);
  const action = call.action ?? '';
  const context = call.context ?? {};
  const resourcePolicy = stack.resourcePolicies.get(resource.arn);
  const simulation: Simulation = {
    request: {
      principal: role.roleArn,
      action,
      resource: { resource: resource.arn, accountId: ACCOUNT },
      // Every SDK call goes over TLS; the queues' policies deny anything else.
      contextVariables: await typedContext({ ...context, 'aws:SecureTransport': ['true'] }),
    },
    identityPolicies: role.policies.map((policy, i) => ({ name: `policy${i}`, policy: asPolicy(policy) })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(resourcePolicy ? { resourcePolicy: asPolicy(resourcePolicy) } : {}),
  };
  const base = { fn: call.fn, action, kind: resource.kind, arn: resource.arn, context, via: call.via };
  // The validating run checks the action, the resource type and the policies.
  const validated = await runSimulation(simulation, {});
  if (validated.resultType === 'error') {
    return { ...base, decision: 'Error', detail: JSON.stringify(validated.errors) };
  }
  if (validated.resultType !== 'single') {
    return { ...base, decision: 'Error', detail: `unexpected ${validated.resultType} result` };
  }
  const ignored = validated.result.ignoredContextKeys ?? [];
  if (ignored.length === 0) return { ...base, decision: validated.overallResult };
  // iam-simulate 0.1.173 drops `kms:EncryptionContext:<key>` as unknown (its variable-key
  // match only knows `/`-separated keys such as `aws:ResourceTag/<key>`), which would deny
  // every call a purpose-bound KMS grant allows. The same engine then decides without that
  // filter; its unvalidated entry point needs the resource policy pre-loaded with a name.
  const unfiltered = {
    ...simulation,
    ...(resourcePolicy
      ? {
          resourcePolicy: createValidatedPolicy(asPolicy(resourcePolicy), validateResourcePolicy, {
            name: 'resource policy',
          }),
        }
      : {}),
  };
  return {
    ...base,
    decision: runUnsafeSimulation(unfiltered, {}),
    detail: `unfiltered: ${ignored.join(', ')}`,
  };
}

/** Multi-valued keys (dynamodb:LeadingKeys) stay lists; single-valued ones take their one value. */
async function typedContext(context: Record<string, string[]>): Promise<Record<string, string | string[]>> {
  const typed: Record<string, string | string[]> = {};
  for (const [key, values] of Object.entries(context)) {
    const single = /^kms:EncryptionContext:/i.test(key) || !isConditionKeyArray(await typeForContextKey(key));
    typed[key] = single ? (values[0] ?? '') : values;
  }
  return typed;
}

const asPolicy = (document: PolicyDocument) => ({ Version: '2012-10-17', ...document });

/** IAM's wildcard match, for "which grant did a call use". */
export function matches(pattern: string, value: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return regex.test(value);
}
