/** What local mode opens when neither a flag nor the shell says otherwise: the user's own loopback services. */
export const LOCAL_DEFAULT_TARGET_HOSTS = 'localhost,127.0.0.1,::1';

/** The value that closes every private host, loopback included. */
export const NO_TARGET_HOSTS = 'none';

/**
 * Local mode's target policy, as the environment the handlers read. Loopback is open
 * by default, for the user's own services; the operator closes or narrows it with
 * `--allowed-target-hosts` (which wins) or `ROTA_ALLOWED_TARGET_HOSTS` from the shell,
 * `none` meaning no host. Whatever is open, the ports of local mode's own API and
 * emulators are reserved: no target reaches them on any loopback address.
 */
export function localTargetEnv(options: {
  /** `--allowed-target-hosts`: a comma-separated list, or `none`. */
  allowedTargetHosts?: string | undefined;
  /** The shell's environment. */
  env: NodeJS.ProcessEnv;
  /** Local mode's own API and emulator ports. */
  ownPorts: readonly number[];
}): { ROTA_ALLOWED_TARGET_HOSTS: string; ROTA_RESERVED_TARGET_PORTS: string } {
  const chosen = options.allowedTargetHosts ?? options.env.ROTA_ALLOWED_TARGET_HOSTS;
  const hosts = chosen === undefined ? LOCAL_DEFAULT_TARGET_HOSTS : chosen.trim();
  return {
    ROTA_ALLOWED_TARGET_HOSTS: hosts.toLowerCase() === NO_TARGET_HOSTS ? '' : hosts,
    ROTA_RESERVED_TARGET_PORTS: options.ownPorts.join(','),
  };
}

/** The banner's lines about targets, from the environment local mode runs with. */
export function describeLocalTargets(env: Record<string, string | undefined>): string[] {
  const hosts = (env.ROTA_ALLOWED_TARGET_HOSTS ?? '').split(',').filter(Boolean);
  const ports = (env.ROTA_RESERVED_TARGET_PORTS ?? '').split(',').filter(Boolean);
  const open = ['true', '1'].includes(env.ROTA_ALLOW_PRIVATE_TARGETS ?? '');
  return [
    open
      ? 'Allowed target hosts: every address (ROTA_ALLOW_PRIVATE_TARGETS).'
      : hosts.length
        ? `Allowed target hosts: ${hosts.join(', ')} (and public addresses); on AWS private and loopback addresses are refused by default. Close them with --allowed-target-hosts none.`
        : 'Allowed target hosts: none (loopback is closed; only public addresses are reachable).',
    `Rota's own ports ${ports.join(', ')} are never reachable by a target, on any loopback address.`,
  ];
}
