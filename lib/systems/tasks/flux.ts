/**
 * InfluxDB clients create tasks with a Flux script whose first statement is
 * `option task = {name: "...", every: 1h, offset: 10m}`. Rota cannot run Flux, but it
 * reads the schedule from that option so InfluxDB-style bodies define tasks unchanged.
 */
export interface FluxTaskOptions {
  name?: string;
  every?: string;
  cron?: string;
  offset?: string;
}

const OPTION_BLOCK = /option\s+task\s*=\s*\{([^}]*)\}/;
const FIELD = /(\w+)\s*:\s*("(?:[^"\\]|\\.)*"|-?[0-9][0-9a-z]*)/g;

export function parseFluxTaskOptions(flux: string): FluxTaskOptions {
  const block = OPTION_BLOCK.exec(flux)?.[1];
  if (block === undefined) return {};
  const out: FluxTaskOptions = {};
  for (const [, key, raw] of block.matchAll(FIELD)) {
    if (raw === undefined) continue;
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    if (key === 'name' || key === 'every' || key === 'cron' || key === 'offset') out[key] = value;
  }
  return out;
}
