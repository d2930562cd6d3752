#!/usr/bin/env node
// The `rota` command: runs cli/main.ts through tsx, as `npm start` runs local mode.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
