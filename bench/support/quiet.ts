/**
 * Imported first by bench/run.ts: drops the AWS SDK's "node >=22 soon" notice (the
 * bench runs on Node 20 on purpose: the repository supports it) and keeps every
 * Powertools logger silent, so stdout carries only the report.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_REGION ??= 'us-east-1';

const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : `${warning.name} ${warning.message}`;
  if (/node >=22|NodeVersionSupportWarning/i.test(text)) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
