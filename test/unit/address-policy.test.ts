import { describe, expect, it } from 'vitest';
import { InvalidError } from '../../lib/errors';
import {
  type AddressClass,
  checkTargetUrl,
  classifyAddress,
  type LookupAll,
  ReservedTargetError,
  resolveTarget,
  TargetBlockedError,
  type TargetPolicy,
} from '../../lib/net/address-policy';

const closed: TargetPolicy = { allowPrivate: false, allowedHosts: [] };

const lookupReturning =
  (...addresses: string[]): LookupAll =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('classifyAddress', () => {
  const cases: [string, AddressClass][] = [
    ['127.0.0.1', 'loopback'],
    ['127.5.5.5', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fd00:ec2::254', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:7f00:1::', 'loopback'],
    ['::7f00:1', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700::1111', 'public'],
    ['::ffff:8.8.8.8', 'public'],
  ];

  it.each(cases)('classifies %s as %s', (ip, expected) => {
    // Act
    const actual = classifyAddress(ip);

    // Assess
    expect(actual).toBe(expected);
  });

  it('refuses what is not an IP address', () => {
    // Act / Assess
    expect(() => classifyAddress('example.com')).toThrow(InvalidError);
  });
});

describe('checkTargetUrl', () => {
  const blocked: [string, string][] = [
    ['http://127.0.0.1/', '127.0.0.1 is loopback'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is link-local'],
    ['http://[::1]:8080/', '::1 is loopback'],
    ['http://[::ffff:169.254.169.254]/', 'is link-local'],
    ['http://[fd00:ec2::254]/', 'is unique-local'],
    ['http://10.1.2.3:9000/hook', '10.1.2.3 is private'],
    ['http://0.0.0.0/', '0.0.0.0 is unspecified'],
    ['http://localhost:8080', 'localhost is loopback'],
    ['http://LOCALHOST./', 'localhost is loopback'],
    ['http://api.localhost/', 'api.localhost is loopback'],
    // The WHATWG URL parser turns these spellings of 127.0.0.1 into the dotted form.
    ['http://2130706433/', '127.0.0.1 is loopback'],
    ['http://017700000001/', '127.0.0.1 is loopback'],
    ['http://0x7f.1/', '127.0.0.1 is loopback'],
    ['http://127.1/', '127.0.0.1 is loopback'],
  ];

  it.each(blocked)('blocks %s', (url, message) => {
    // Act / Assess
    expect(() => checkTargetUrl(url, closed)).toThrow(message);
    expect(() => checkTargetUrl(url, closed)).toThrow(TargetBlockedError);
  });

  it('names the settings that open a blocked address', () => {
    // Act
    const error = catchError(() => checkTargetUrl('http://169.254.169.254/', closed));

    // Assess
    expect(error).toBeInstanceOf(TargetBlockedError);
    expect((error as TargetBlockedError).code).toBe('invalid');
    expect((error as Error).message).toBe(
      'target address 169.254.169.254 is link-local; set allowPrivateTargets or allowedTargetHosts to allow it',
    );
  });

  it.each([
    'https://8.8.8.8/',
    'https://[2606:4700::1111]/',
    'https://example.com/hook',
    // A name that needs DNS is left for the run-time check.
    'http://internal.corp.example/',
  ])('lets %s through', (url) => {
    // Act / Assess
    expect(() => checkTargetUrl(url, closed)).not.toThrow();
  });

  it('opens everything with allowPrivate', () => {
    // Prepare
    const policy: TargetPolicy = { allowPrivate: true, allowedHosts: [] };

    // Act / Assess
    expect(() => checkTargetUrl('http://169.254.169.254/', policy)).not.toThrow();
    expect(() => checkTargetUrl('http://localhost/', policy)).not.toThrow();
  });

  it('opens only the listed hosts, by value and case-insensitively', () => {
    // Prepare
    const policy: TargetPolicy = { allowPrivate: false, allowedHosts: ['LocalHost', '0:0::1', '10.0.0.5'] };

    // Act / Assess
    expect(() => checkTargetUrl('http://localhost:8080/', policy)).not.toThrow();
    expect(() => checkTargetUrl('http://[::1]/', policy)).not.toThrow();
    expect(() => checkTargetUrl('http://10.0.0.5/', policy)).not.toThrow();
    expect(() => checkTargetUrl('http://10.0.0.6/', policy)).toThrow(TargetBlockedError);
    expect(() => checkTargetUrl('http://127.0.0.1/', policy)).toThrow(TargetBlockedError);
  });

  it('matches *.suffix patterns against subdomains only', () => {
    // Prepare
    const policy: TargetPolicy = { allowPrivate: false, allowedHosts: ['*.localhost'] };

    // Act / Assess
    expect(() => checkTargetUrl('http://api.localhost/', policy)).not.toThrow();
    expect(() => checkTargetUrl('http://a.b.localhost/', policy)).not.toThrow();
    expect(() => checkTargetUrl('http://localhost/', policy)).toThrow(TargetBlockedError);
    expect(() => checkTargetUrl('http://evillocalhost/', policy)).not.toThrow(); // needs DNS, so not judged here
  });

  it('refuses URLs that are not http', () => {
    // Act / Assess
    expect(() => checkTargetUrl('file:///etc/passwd', closed)).toThrow('must be http or https');
    expect(() => checkTargetUrl('not a url', closed)).toThrow(InvalidError);
  });
});

describe('resolveTarget', () => {
  it('refuses a host when any of its addresses is blocked', async () => {
    // Prepare
    const lookup = lookupReturning('93.184.215.14', '10.0.0.7');

    // Act
    const error = await resolveTarget('mixed.example.com', closed, lookup).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(TargetBlockedError);
    expect((error as Error).message).toBe(
      'target host mixed.example.com resolves to an address that is private; set allowPrivateTargets or allowedTargetHosts to allow it',
    );
    // The class is told; the DNS answer stays internal.
    expect((error as Error).message).not.toContain('10.0.0.7');
  });

  it('returns the first address when all are public', async () => {
    // Prepare
    const lookup = lookupReturning('2606:4700::1111', '93.184.215.14');

    // Act
    const resolved = await resolveTarget('Example.COM', closed, lookup);

    // Assess
    expect(resolved).toEqual({ address: '2606:4700::1111', family: 6 });
  });

  it('classifies IPv4-mapped answers as their IPv4 address', async () => {
    // Prepare
    const lookup = lookupReturning('::ffff:169.254.169.254');

    // Act / Assess
    await expect(resolveTarget('sneaky.example.com', closed, lookup)).rejects.toThrow('is link-local');
  });

  it('opens every address with allowPrivate', async () => {
    // Prepare
    const policy: TargetPolicy = { allowPrivate: true, allowedHosts: [] };

    // Act
    const resolved = await resolveTarget('db.internal', policy, lookupReturning('10.0.0.7', '93.184.215.14'));

    // Assess
    expect(resolved).toEqual({ address: '10.0.0.7', family: 4 });
  });

  it('opens a listed host whatever it resolves to, and a listed address for any host', async () => {
    // Prepare
    const policy: TargetPolicy = { allowPrivate: false, allowedHosts: ['*.internal', '10.0.0.9'] };

    // Act
    const byHost = await resolveTarget('db.internal', policy, lookupReturning('10.0.0.7'));
    const byAddress = await resolveTarget('other.example', policy, lookupReturning('10.0.0.9'));
    const refused = await resolveTarget(
      'other.example',
      policy,
      lookupReturning('10.0.0.9', '10.0.0.8'),
    ).catch((e: unknown) => e);

    // Assess
    expect(byHost.address).toBe('10.0.0.7');
    expect(byAddress.address).toBe('10.0.0.9');
    expect(refused).toBeInstanceOf(TargetBlockedError);
    expect((refused as Error).message).toBe(
      'target host other.example resolves to an address that is private; set allowPrivateTargets or allowedTargetHosts to allow it',
    );
    expect((refused as TargetBlockedError).address).toBe('10.0.0.8');
  });

  it('checks IP literals and localhost without asking DNS', async () => {
    // Prepare
    let lookups = 0;
    const lookup: LookupAll = async () => {
      lookups++;
      return [{ address: '93.184.215.14', family: 4 }];
    };

    // Act
    const literal = await resolveTarget('[2606:4700::1111]', closed, lookup);
    const blockedLiteral = await resolveTarget('169.254.169.254', closed, lookup).catch((e: unknown) => e);
    const blockedLocalhost = await resolveTarget('localhost', closed, lookup).catch((e: unknown) => e);

    // Assess
    expect(literal).toEqual({ address: '2606:4700::1111', family: 6 });
    expect(blockedLiteral).toBeInstanceOf(TargetBlockedError);
    expect(blockedLocalhost).toBeInstanceOf(TargetBlockedError);
    expect(lookups).toBe(0);
  });

  it('reports a name that does not resolve', async () => {
    // Prepare
    const lookup: LookupAll = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' });
    };

    // Act / Assess
    await expect(resolveTarget('nowhere.invalid', closed, lookup)).rejects.toThrow(
      'could not resolve host nowhere.invalid (ENOTFOUND)',
    );
    await expect(resolveTarget('empty.example', closed, lookupReturning())).rejects.toThrow('no addresses');
  });
});

describe("reserved ports (local mode's own services)", () => {
  // Everything open, as an operator could set it: the reserved ports stay closed anyway.
  const wideOpen: TargetPolicy = {
    allowPrivate: true,
    allowedHosts: ['localhost', '127.0.0.1', '::1', '*.localhost'],
    reservedPorts: [4566, 8080],
  };

  it.each([
    'http://127.0.0.1:4566/',
    'http://127.9.9.9:4566/',
    'http://0x7f000001:4566/',
    'http://2130706433:4566/',
    'http://0.0.0.0:4566/',
    'http://[::]:4566/',
    'http://localhost:4566/',
    'http://LOCALHOST.:4566/',
    'http://dynamo.localhost:4566/',
    'http://[::1]:4566/',
    'http://[::ffff:127.0.0.1]:4566/',
    'http://[::ffff:7f00:1]:4566/',
    'http://127.0.0.1:8080/',
    'http://localhost:8080/x',
  ])('refuses %s at create time whatever else is open', (url) => {
    const error = catchError(() => checkTargetUrl(url, wideOpen));
    expect(error).toBeInstanceOf(ReservedTargetError);
    expect((error as Error).message).toMatch(
      /port (4566|8080) is one of Rota's own services; no target may reach it$/,
    );
  });

  it('opens the same hosts on other ports, and the reserved ports of hosts that need DNS', () => {
    expect(() => checkTargetUrl('http://127.0.0.1:4567/', wideOpen)).not.toThrow();
    expect(() => checkTargetUrl('http://localhost:9000/', wideOpen)).not.toThrow();
    // Port 80 by default: not reserved.
    expect(() => checkTargetUrl('http://127.0.0.1/', wideOpen)).not.toThrow();
    // A name is judged when the run connects (below).
    expect(() => checkTargetUrl('http://db.internal:4566/', wideOpen)).not.toThrow();
  });

  it('refuses a name that resolves to loopback on a reserved port when the run connects', async () => {
    // Prepare
    const lookup = lookupReturning('127.0.0.1');

    // Act
    const refused = await resolveTarget('db.internal', wideOpen, lookup, 4566).catch((e: unknown) => e);
    const mapped = await resolveTarget(
      'v6.internal',
      wideOpen,
      lookupReturning('::ffff:127.0.0.1'),
      8080,
    ).catch((e: unknown) => e);
    const otherPort = await resolveTarget('db.internal', wideOpen, lookup, 4567);

    // Assess
    expect(refused).toBeInstanceOf(ReservedTargetError);
    expect((refused as Error).message).toBe(
      "target host db.internal resolves to this machine, where port 4566 is one of Rota's own services; no target may reach it",
    );
    expect(mapped).toBeInstanceOf(ReservedTargetError);
    expect(otherPort).toEqual({ address: '127.0.0.1', family: 4 });
  });

  it('refuses literals and localhost on a reserved port when the run connects', async () => {
    for (const host of ['127.0.0.1', '[::1]', '::ffff:7f00:1', '0.0.0.0', 'localhost']) {
      await expect(resolveTarget(host, wideOpen, lookupReturning('127.0.0.1'), 8080), host).rejects.toThrow(
        ReservedTargetError,
      );
    }
  });
});

function catchError(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
