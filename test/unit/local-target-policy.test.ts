import { describe, expect, it } from 'vitest';
import { describeLocalTargets, localTargetEnv } from '../../local/target-policy';

describe("local mode's target policy", () => {
  const ownPorts = [4001, 4002, 8080];

  it('opens loopback by default and always reserves its own ports', () => {
    expect(localTargetEnv({ env: {}, ownPorts })).toEqual({
      ROTA_ALLOWED_TARGET_HOSTS: 'localhost,127.0.0.1,::1',
      ROTA_RESERVED_TARGET_PORTS: '4001,4002,8080',
    });
  });

  it('honours ROTA_ALLOWED_TARGET_HOSTS from the shell, an empty one included', () => {
    expect(
      localTargetEnv({ env: { ROTA_ALLOWED_TARGET_HOSTS: '127.0.0.1' }, ownPorts }).ROTA_ALLOWED_TARGET_HOSTS,
    ).toBe('127.0.0.1');
    expect(
      localTargetEnv({ env: { ROTA_ALLOWED_TARGET_HOSTS: '' }, ownPorts }).ROTA_ALLOWED_TARGET_HOSTS,
    ).toBe('');
    expect(
      localTargetEnv({ env: { ROTA_ALLOWED_TARGET_HOSTS: 'none' }, ownPorts }).ROTA_ALLOWED_TARGET_HOSTS,
    ).toBe('');
  });

  it('lets --allowed-target-hosts win over the shell, with none closing every host', () => {
    const env = { ROTA_ALLOWED_TARGET_HOSTS: 'localhost' };
    expect(localTargetEnv({ allowedTargetHosts: 'NONE', env, ownPorts }).ROTA_ALLOWED_TARGET_HOSTS).toBe('');
    expect(
      localTargetEnv({ allowedTargetHosts: 'db.lan, 127.0.0.1', env, ownPorts }).ROTA_ALLOWED_TARGET_HOSTS,
    ).toBe('db.lan, 127.0.0.1');
  });

  it('says in the banner what is open and what never is', () => {
    const closed = describeLocalTargets({
      ROTA_ALLOWED_TARGET_HOSTS: '',
      ROTA_RESERVED_TARGET_PORTS: '1,2,3',
    });
    expect(closed).toEqual([
      'Allowed target hosts: none (loopback is closed; only public addresses are reachable).',
      "Rota's own ports 1, 2, 3 are never reachable by a target, on any loopback address.",
    ]);
    expect(describeLocalTargets({ ROTA_ALLOWED_TARGET_HOSTS: 'localhost,::1' })[0]).toMatch(
      /^Allowed target hosts: localhost, ::1 .*--allowed-target-hosts none/,
    );
    expect(describeLocalTargets({ ROTA_ALLOW_PRIVATE_TARGETS: 'true' })[0]).toMatch(/every address/);
  });
});
