import { App, Aspects, Stack, type StackProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { TaskService } from './task-service';

/** The deployable Rota: one environment-agnostic stack, so `cdk synth` needs no account and no network. */
export class RotaStack extends Stack {
  readonly service: TaskService;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, { description: 'Rota: serverless task service', ...props });
    this.service = new TaskService(this, 'Rota');
  }
}

// `cdk synth` runs this file (cdk.json) and synthesizes on exit. The cdk-nag test imports
// `app` and `stack` from here, so it checks exactly what gets deployed.
export const app = new App();
export const stack = new RotaStack(app, 'RotaStack');
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
