import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { InvalidError } from '../errors';

/**
 * Which targets a run may contact. Anything that is not a public address is
 * closed unless the operator opens it: a task's URL is written by a user, and
 * the runner sits inside a VPC next to the instance metadata service.
 */
export interface TargetPolicy {
  /** Opens every address class. */
  allowPrivate: boolean;
  /**
   * Hosts opened whatever they resolve to: exact hostnames or IP literals
   * (case-insensitive), or `*.example.com` for any subdomain of example.com.
   */
  allowedHosts: readonly string[];
  /**
   * Ports of this machine no target may reach, whatever is open: local mode's own API
   * and emulators (the DynamoDB emulator checks no signatures). Refused on every
   * loopback and unspecified address, at create time for literals and on the address
   * each connection resolves to.
   */
  reservedPorts?: readonly number[] | undefined;
  /** The region AWS targets must be in (the deployment's). Without it no AWS target is accepted. */
  awsRegion?: string | undefined;
  /** Rota's own queue URLs, which no AWS target may name. */
  ownQueueUrls?: readonly string[] | undefined;
}

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves every address of a hostname, as `dns.promises.lookup(host, { all: true })` does. */
export type LookupAll = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

export class TargetBlockedError extends InvalidError {
  readonly host: string;
  readonly address: string;
  readonly addressClass: AddressClass;

  constructor(target: { host: string; address: string; addressClass: AddressClass }) {
    // What a name resolves to stays out of the message: it would show a user the internal DNS.
    const what =
      target.host === target.address
        ? `target address ${target.address}`
        : `target host ${target.host} resolves to an address that`;
    super(`${what} is ${target.addressClass}; set allowPrivateTargets or allowedTargetHosts to allow it`);
    this.host = target.host;
    this.address = target.address;
    this.addressClass = target.addressClass;
  }
}

/** A connection to one of Rota's own services on this machine (local mode), refused whatever is open. */
export class ReservedTargetError extends InvalidError {
  constructor(target: { host: string; port: number; literal: boolean }) {
    const where = target.literal
      ? `target ${formatHost(target.host)}:${target.port} is on this machine, and port ${target.port}`
      : `target host ${target.host} resolves to this machine, where port ${target.port}`;
    super(`${where} is one of Rota's own services; no target may reach it`);
  }
}

const IPV4_CLASSES: Record<string, AddressClass> = {
  unicast: 'public',
  unspecified: 'unspecified',
  broadcast: 'reserved',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'private',
  private: 'private',
  reserved: 'reserved',
  benchmarking: 'reserved',
  // Anycast ranges IANA lists as globally reachable.
  as112: 'public',
  amt: 'public',
};

const IPV6_CLASSES: Record<string, AddressClass> = {
  unicast: 'public',
  unspecified: 'unspecified',
  linkLocal: 'link-local',
  multicast: 'multicast',
  loopback: 'loopback',
  uniqueLocal: 'unique-local',
  // fec0::/10 was the private range before unique-local replaced it; stacks may still route it.
  deprecatedSiteLocal: 'private',
  as112v6: 'public',
  amt: 'public',
};

/**
 * Classifies an IP address. Addresses that carry an IPv4 address a gateway
 * would translate to (IPv4-mapped, SIIT, NAT64, 6to4) are classified as that
 * IPv4 address, so `::ffff:169.254.169.254` is as closed as 169.254.169.254.
 */
export function classifyAddress(ip: string): AddressClass {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(stripBrackets(ip));
  } catch (error) {
    throw new InvalidError(`"${ip}" is not an IP address`, { cause: error });
  }
  if (parsed.kind() === 'ipv4') return IPV4_CLASSES[parsed.range()] ?? 'reserved';

  const v6 = parsed as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded) return IPV4_CLASSES[embedded.range()] ?? 'reserved';
  const range = v6.range();
  // 64:ff9b:1::/48 is NAT64 for a network's own use: it reaches that network's private IPv4 hosts.
  if (range === 'rfc6052') return 'private';
  // ::a.b.c.d (deprecated IPv4-compatible); ipaddr calls it unicast, but it is no public address.
  if (range === 'unicast' && v6.parts.slice(0, 6).every((part) => part === 0)) return 'reserved';
  return IPV6_CLASSES[range] ?? 'reserved';
}

function embeddedIPv4(ip: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = ip.parts;
  const low = (hi: number | undefined, lo: number | undefined) =>
    new ipaddr.IPv4([((hi ?? 0) >> 8) & 0xff, (hi ?? 0) & 0xff, ((lo ?? 0) >> 8) & 0xff, (lo ?? 0) & 0xff]);
  switch (ip.range()) {
    case 'ipv4Mapped':
    case 'rfc6145':
      return low(p[6], p[7]);
    case 'rfc6052':
      // Only the well-known 64:ff9b::/96 prefix puts the IPv4 address in the last 32 bits.
      return p[2] === 0 ? low(p[6], p[7]) : undefined;
    case '6to4':
      return low(p[1], p[2]);
    default:
      return undefined;
  }
}

/**
 * Create-time check of a target URL. Only what is known without DNS is refused
 * here (IP literals and localhost); hostnames are checked again when the run
 * connects, because what they resolve to can change.
 */
export function checkTargetUrl(url: string, policy: TargetPolicy): void {
  const { host, port } = targetHostAndPort(url);
  if (isOnThisMachine(host) && isReservedPort(port, policy)) {
    throw new ReservedTargetError({ host, port, literal: true });
  }
  if (isOpen(host, policy)) return;
  if (isIP(host)) {
    const addressClass = classifyAddress(host);
    if (addressClass !== 'public') throw new TargetBlockedError({ host, address: host, addressClass });
    return;
  }
  if (isLocalhost(host)) throw new TargetBlockedError({ host, address: host, addressClass: 'loopback' });
}

/**
 * Run-time check: resolves every address of `hostname` and refuses when any is
 * closed, so a name with one public and one private record cannot be used to
 * reach the private one. Returns the address to connect to, which must be the
 * one used: resolving again would let DNS answer differently.
 */
export async function resolveTarget(
  hostname: string,
  policy: TargetPolicy,
  lookup: LookupAll = defaultLookup,
  /** The port the connection goes to; reserved ports are refused on this machine's addresses. */
  port?: number,
): Promise<ResolvedAddress> {
  const host = normalizeHost(hostname);
  const hostOpen = isOpen(host, policy);
  const reserved = port !== undefined && isReservedPort(port, policy) ? port : undefined;
  const family = isIP(host);
  if (family === 4 || family === 6) {
    if (reserved !== undefined && isOnThisMachine(host)) {
      throw new ReservedTargetError({ host, port: reserved, literal: true });
    }
    if (!hostOpen) assertAddressOpen(host, host, policy);
    return { address: host, family };
  }
  if (reserved !== undefined && isLocalhost(host)) {
    throw new ReservedTargetError({ host, port: reserved, literal: true });
  }
  if (!hostOpen && isLocalhost(host)) {
    throw new TargetBlockedError({ host, address: host, addressClass: 'loopback' });
  }

  let addresses: readonly { address: string; family: number }[];
  try {
    addresses = await lookup(host);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new Error(`could not resolve host ${host}${typeof code === 'string' ? ` (${code})` : ''}`, {
      cause: error,
    });
  }
  const first = addresses[0];
  if (!first) throw new Error(`could not resolve host ${host}: no addresses`);
  if (reserved !== undefined && addresses.some(({ address }) => isOnThisMachine(address))) {
    throw new ReservedTargetError({ host, port: reserved, literal: false });
  }
  if (!hostOpen) {
    for (const { address } of addresses) assertAddressOpen(host, address, policy);
  }
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

const defaultLookup: LookupAll = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

function assertAddressOpen(host: string, address: string, policy: TargetPolicy): void {
  const addressClass = classifyAddress(address);
  if (addressClass === 'public' || isOpen(address, policy)) return;
  throw new TargetBlockedError({ host, address, addressClass });
}

function isOpen(host: string, policy: TargetPolicy): boolean {
  if (policy.allowPrivate) return true;
  return policy.allowedHosts.some((entry) => hostMatches(host, entry));
}

function hostMatches(host: string, entry: string): boolean {
  const pattern = normalizeHost(entry);
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  if (pattern === host) return true;
  // IP literals compare by value: `::1` opens `0:0::1`, and `127.0.0.1` opens `::ffff:127.0.0.1`.
  if (isIP(pattern) && isIP(host)) {
    return ipaddr.process(pattern).toNormalizedString() === ipaddr.process(host).toNormalizedString();
  }
  return false;
}

function targetHostAndPort(url: string): { host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new InvalidError(`invalid target URL "${url}"`, { cause: error });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidError('target URL must be http or https');
  }
  return { host: normalizeHost(parsed.hostname), port: portOf(parsed) };
}

/** The port a URL connects to: its own, or its scheme's default. */
export function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

function isReservedPort(port: number, policy: TargetPolicy): boolean {
  return policy.reservedPorts?.includes(port) ?? false;
}

/**
 * Whether connecting to `host` reaches this machine: `localhost`, any loopback address
 * and the unspecified address (connecting to 0.0.0.0 or :: reaches a local listener),
 * in any encoding, IPv4-mapped included.
 */
function isOnThisMachine(host: string): boolean {
  if (isLocalhost(host)) return true;
  if (!isIP(stripBrackets(host))) return false;
  const addressClass = classifyAddress(host);
  return addressClass === 'loopback' || addressClass === 'unspecified';
}

function formatHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** `[::1]` → `::1`, `Example.COM.` → `example.com`. */
function normalizeHost(host: string): string {
  return stripBrackets(host.trim().toLowerCase()).replace(/\.$/, '');
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** RFC 6761: resolvers may answer `localhost` and its subdomains locally, with loopback. */
function isLocalhost(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}
