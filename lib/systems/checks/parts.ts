import { retentionMs, table } from '../../composition/core';
import type { Part } from '../../composition/root';
import { createStatusStore, type StatusStore } from './status-store';

/** The checks' statuses, on the root's table: the checks API lists them, the check runner writes them, rules read them. */
export const statusStore: Part<StatusStore> = (rota) =>
  createStatusStore({ ...rota.get(table), retentionMs: retentionMs(rota) });
