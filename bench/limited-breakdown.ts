import { measureWorkload, type WorkloadName } from './requests';
import { rotaCostPerMillion } from './support/cost';
import { startSubstrate } from './support/engine';

/**
 * `npx tsx bench/limited-breakdown.ts [workload]`: one workload alone (default `limited`),
 * its requests per run by source and operation, its outcomes and its cost: where a
 * limited run's requests go (issue 14), in seconds rather than the whole bench's minutes.
 */
const name = (process.argv[2] ?? 'limited') as WorkloadName;
const substrate = await startSubstrate();
try {
  const r = await measureWorkload(substrate, name);
  const p = r.perRun;
  const cost = rotaCostPerMillion({
    dynamodbReadUnits: p.dynamodbReadUnits,
    dynamodbWriteUnits: p.dynamodbWriteUnits,
    sqsRequests: p.sqsRequests,
    lambdaInvocations: r.lambda.invocationsPerRun,
    lambdaMs: r.lambda.msPerRun,
    logBytes: r.logs.bytesPerRun,
  });
  const f = (x: number) => x.toFixed(2);
  console.log(`${name}: ${r.runs} runs, outcomes ${JSON.stringify(r.outcomes)}, completed ${r.completed}`);
  console.log(
    `per run: ${f(p.dynamodbReads)} reads (${f(p.dynamodbReadUnits)} RRU), ${f(p.dynamodbWrites)} writes (${f(p.dynamodbWriteUnits)} WRU, index ${f(p.dynamodbGsiWriteUnits)}: ${JSON.stringify(r.indexWriteUnits)}), ${f(p.dynamodbConditionalFailures)} failed conditions, ${f(p.sqsRequests)} SQS, ${f(r.lambda.invocationsPerRun)} λ inv, ${f(r.lambda.msPerRun)} λ ms`,
  );
  for (const [source, ops] of Object.entries(p.bySource)) {
    for (const [op, n] of Object.entries(ops)) console.log(`  ${source.padEnd(12)} ${op.padEnd(36)} ${f(n)}`);
  }
  console.log(
    `$ per million: DynamoDB ${f(cost.dynamodb)} + SQS ${f(cost.sqs)} + Lambda ${f(cost.lambda)} + Logs ${f(cost.logs)} = ${f(cost.total)}`,
  );
} finally {
  await substrate.stop();
}
