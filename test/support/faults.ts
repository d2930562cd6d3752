import type { Logger } from '@aws-lambda-powertools/logger';

/** One structured log call, as a test sees it. */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/**
 * A logger that keeps what it is given, so a test can read exactly which fields a log
 * line carries. It stands in for the Powertools logger, whose output goes to stdout.
 */
export function capturingLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const keep =
    (level: LogEntry['level']) =>
    (message: string, ...extra: unknown[]) => {
      const fields = Object.assign({}, ...extra.filter((e) => typeof e === 'object' && e !== null));
      entries.push({ level, message, fields });
    };
  const logger = { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
  return { logger: logger as unknown as Logger, entries };
}

/** The error a wrapped store or queue method throws to stand for a process dying at that point. */
export class InjectedCrash extends Error {
  constructor(where: string) {
    super(`injected crash: ${where}`);
  }
}

/**
 * Wraps `method` so that its first `times` calls matching `when` throw an InjectedCrash
 * instead of running; every other call goes through.
 */
export function crashOn<A extends unknown[], R>(
  method: (...args: A) => Promise<R>,
  where: string,
  { times = 1, when = () => true }: { times?: number; when?: (...args: A) => boolean } = {},
): ((...args: A) => Promise<R>) & { crashes: () => number } {
  let crashes = 0;
  const wrapped = async (...args: A) => {
    if (crashes < times && when(...args)) {
      crashes++;
      throw new InjectedCrash(where);
    }
    return method(...args);
  };
  return Object.assign(wrapped, { crashes: () => crashes });
}
