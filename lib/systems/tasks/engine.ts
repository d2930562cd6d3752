import { targetPolicy } from '../../composition/core';
import { awsTargets, deploymentInflux } from '../../composition/engine';
import { secretBox } from '../../composition/secrets';
import type { RunnerServices } from '../services';
import { engine } from '../system';
import { tasksSystem } from './definition';
import { createTaskRunner } from './runner';

/** Each run calls the task's target. Apart from the routes, which the executor's bundle does not hold. */
export const tasksEngine = engine({
  source: import.meta.url,
  definition: tasksSystem,
  runner: ({ get }: RunnerServices) =>
    createTaskRunner({
      policy: get(targetPolicy),
      aws: get(awsTargets),
      secrets: get(secretBox),
      influx: get(deploymentInflux),
    }),
  table: [],
});
