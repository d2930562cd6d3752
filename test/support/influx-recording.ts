import { HttpError, type Transport } from '@influxdata/influxdb-client';
import { type InfluxResponse, influxViolations, operationOf } from './influx-contract';

/** One answer an InfluxDB client received, with the request it answered. */
export interface RecordedAnswer extends InfluxResponse {
  method: string;
  path: string;
}

/**
 * Wraps an InfluxDB client's transport so every answer it receives, success or error, is
 * kept for checking against the contract; the client itself sees nothing different.
 */
export function recordingTransport(inner: Transport, answers: RecordedAnswer[]): Transport {
  return {
    send: (...args) => inner.send(...args),
    iterate: (...args) => inner.iterate(...args),
    chunkCombiner: inner.chunkCombiner,
    request: async (path, body, options, responseStarted) => {
      const method = options.method ?? 'GET';
      let status = 0;
      try {
        const result = await inner.request(path, body, options, (headers, statusCode) => {
          status = statusCode ?? 0;
          responseStarted?.(headers, statusCode);
        });
        answers.push({ method, path, status, body: result === '' ? undefined : result });
        return result;
      } catch (error) {
        if (error instanceof HttpError) {
          answers.push({
            method,
            path,
            status: error.statusCode,
            body: error.body ? JSON.parse(error.body) : undefined,
          });
        }
        throw error;
      }
    },
  };
}

/** Every recorded answer's contract violations, as `METHOD path status: violation` lines. */
export function violationsOf(answers: readonly RecordedAnswer[]): string[] {
  return answers.flatMap((answer) => {
    const operation = operationOf(answer.method, answer.path);
    if (!operation) return [`${answer.method} ${answer.path}: no such operation in the contract`];
    return influxViolations(operation, answer).map(
      (v) => `${answer.method} ${operation.path} ${answer.status}: ${v}`,
    );
  });
}
