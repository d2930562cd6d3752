export type { TableAction, TableUse } from '../lib/store/access';
export {
  esbuildOptions,
  functionEntry,
  ROTA_BUNDLE,
  ROTA_ROOT,
  ROTA_RUNTIME,
} from './bundling';
export { RotaAlarms, type RotaAlarmsProps } from './rota-alarms';
export { RotaApi, type RotaApiProps } from './rota-api';
export { RotaFunction, type RotaFunctionProps } from './rota-function';
export { RotaQueue, type RotaQueueProps } from './rota-queue';
export { RotaTable, type RotaTableProps } from './rota-table';
export {
  API_FUNCTIONS,
  type ApiFunctionSpec,
  type BuiltFunction,
  type EntryFile,
  ROTA_FUNCTIONS,
  rotaFunctions,
  TaskService,
  type TaskServiceAuthMode,
  type TaskServiceProps,
  WORKER_FUNCTIONS,
  type WorkerFunctionSpec,
} from './task-service';
