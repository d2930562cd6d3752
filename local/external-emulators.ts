import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Emulator } from './emulators';

/** Which service an external endpoint stands in for, as its flag names it. */
export type ExternalService = 'dynamodb' | 'sqs';

const FLAG: Record<ExternalService, string> = { dynamodb: '--dynamodb-endpoint', sqs: '--sqs-endpoint' };

/** A refused `--dynamodb-endpoint` / `--sqs-endpoint`: the message names the flag and what it takes. */
export class ExternalEndpointError extends Error {
  override name = 'ExternalEndpointError';
}

/** Loopback: `localhost` (and its subdomains, which resolve to loopback) or a 127.0.0.0/8 or ::1 literal. */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (!isIP(host)) return false;
  const address = ipaddr.process(host);
  return address.range() === 'loopback';
}

/**
 * An emulator someone else runs (DynamoDB Local, LocalStack, moto_server), as local mode
 * uses it instead of its embedded one. Only loopback unless `allowRemote`: local mode's
 * table and queues hold tokens' digests and run history, and its static credentials
 * would be sent to whatever host the flag names. Stopping local mode leaves it running.
 */
export function externalEmulator(
  service: ExternalService,
  url: string,
  { allowRemote = false }: { allowRemote?: boolean | undefined } = {},
): Emulator {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ExternalEndpointError(`${FLAG[service]} must be an http:// or https:// URL, got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new ExternalEndpointError(`${FLAG[service]} must be an http:// or https:// URL, got "${url}"`);
  if (parsed.username || parsed.password || parsed.search || parsed.hash || parsed.pathname !== '/')
    throw new ExternalEndpointError(
      `${FLAG[service]} must be a bare origin (scheme, host and port, no path, query or credentials), got "${url}"`,
    );
  if (!allowRemote && !isLoopbackHost(parsed.hostname))
    throw new ExternalEndpointError(
      `${FLAG[service]} must be a loopback address (localhost, 127.0.0.1, [::1]), got "${parsed.hostname}"; pass --allow-remote-emulators to use another host`,
    );
  return { endpoint: parsed.origin, stop: async () => {} };
}

/** The endpoint's port, its scheme's default when the URL names none. */
export function portOfEndpoint(endpoint: string): number {
  const url = new URL(endpoint);
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}
