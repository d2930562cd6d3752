// Loaded on the first run of an EventBridge target (lib/runners/aws-targets.ts), with the EventBridge client.
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { type AwsScope, checkAwsTarget } from './aws-resources';
import type { TargetRunContext } from './http-target';
import type { EventBridgeTarget } from './target';
import { targetMessage } from './target-message';

export async function putOnBus(
  eventBridge: EventBridgeClient,
  scope: AwsScope,
  target: EventBridgeTarget,
  ctx: TargetRunContext,
) {
  checkAwsTarget(target, scope);
  const out = await eventBridge.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: target.eventBusName,
          Source: target.source,
          DetailType: target.detailType,
          Detail: targetMessage(target.payload, ctx),
        },
      ],
    }),
    { abortSignal: ctx.signal },
  );
  const entry = out.Entries?.[0];
  // PutEvents answers 200 even when it rejects an entry; the rejection is only in the entry.
  if ((out.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode) {
    const detail = [entry?.ErrorCode ?? 'unknown error', entry?.ErrorMessage].filter(Boolean).join(': ');
    throw new Error(`EventBridge rejected the event: ${detail}`);
  }
  ctx.log(`EventBridge event ${entry?.EventId ?? '(no id)'} put on bus ${target.eventBusName}`);
}
