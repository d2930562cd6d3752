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
  type TableAccess,
  TaskService,
  type TaskServiceAuthMode,
  type TaskServiceProps,
  WORKER_FUNCTIONS,
} from './task-service';
