import { HttpError, type Transport } from '@influxdata/influxdb-client';
import type { InfluxResponse } from './influx-contract';

/** Each answer the client received: its status and parsed body. */
export function recordingTransport(inner: Transport, answers: InfluxResponse[]): Transport {
  return {
    send: (...args) => inner.send(...args),
    iterate: (...args) => inner.iterate(...args),
    chunkCombiner: inner.chunkCombiner,
    request: async (path, body, options, responseStarted) => {
      let status = 0;
      try {
        const result = await inner.request(path, body, options, (headers, statusCode) => {
          status = statusCode ?? 0;
          responseStarted?.(headers, statusCode);
        });
        answers.push({ status, body: result === '' ? undefined : result });
        return result;
      } catch (error) {
        if (error instanceof HttpError) {
          answers.push({ status: error.statusCode, body: error.body ? JSON.parse(error.body) : undefined });
        }
        throw error;
      }
    },
  };
}
