export type { TableAction, TableUse } from '../lib/store/access';
export {
  cdkBundlingOptions,
  esbuildOptions,
  functionEntry,
  ROTA_BUNDLE,
  ROTA_ROOT,
  ROTA_RUNTIME,
} from './bundling';
export { RotaFunction, type RotaFunctionProps } from './rota-function';
export {
  API_FUNCTIONS,
  type ApiFunctionSpec,
  ROTA_FUNCTIONS,
  TaskService,
  type TaskServiceAuthMode,
  type TaskServiceProps,
  WORKER_FUNCTIONS,
  type WorkerFunctionSpec,
} from './task-service';
