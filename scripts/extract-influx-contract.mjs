#!/usr/bin/env node
// Extracts the subset of InfluxDB's published contract (influxdata/openapi,
// contracts/oss.json) that Rota claims to serve, with every component it references,
// so the e2e suite validates against InfluxDB's own schemas, never hand-written ones.
// Usage: node scripts/extract-influx-contract.mjs <oss.json> <commit> > test/contract/influxdb/oss-subset.json
//   e.g. git --git-dir=<openapi mirror> show HEAD:contracts/oss.json > /tmp/oss.json
import { readFileSync } from 'node:fs';

const IN_SCOPE = /^\/(tasks|checks|notificationRules|notificationEndpoints|authorizations|labels)(\/|$)/;
const OUT_OF_SCOPE = /\/(members|owners|query)(\/|$)/;

const [file, commit] = process.argv.slice(2);
if (!file || !/^[0-9a-f]{40}$/.test(commit ?? '')) {
  process.stderr.write('usage: extract-influx-contract.mjs <oss.json> <40-hex commit>\n');
  process.exit(2);
}
const contract = JSON.parse(readFileSync(file, 'utf8'));

const paths = Object.fromEntries(
  Object.entries(contract.paths)
    .filter(([path]) => IN_SCOPE.test(path) && !OUT_OF_SCOPE.test(path))
    .sort(([a], [b]) => a.localeCompare(b)),
);

// Walks every $ref, transitively, so the subset is closed.
const wanted = new Set();
const pending = [paths];
while (pending.length > 0) {
  const node = pending.pop();
  if (typeof node !== 'object' || node === null) continue;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && !wanted.has(value)) {
      wanted.add(value);
      const [, section, name] = value.match(/^#\/components\/([^/]+)\/(.+)$/) ?? [];
      const target = contract.components?.[section]?.[name];
      if (!target) throw new Error(`unresolved $ref ${value}`);
      pending.push(target);
    } else pending.push(value);
  }
}
const components = {};
for (const ref of [...wanted].sort()) {
  const [, section, name] = ref.match(/^#\/components\/([^/]+)\/(.+)$/);
  components[section] ??= {};
  components[section][name] = contract.components[section][name];
}

process.stdout.write(
  `${JSON.stringify(
    {
      openapi: contract.openapi,
      info: {
        ...contract.info,
        'x-source': 'github.com/influxdata/openapi contracts/oss.json',
        'x-commit': commit,
      },
      servers: contract.servers,
      paths,
      components,
    },
    null,
    2,
  )}\n`,
);
