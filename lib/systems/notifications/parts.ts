import { retentionMs, table } from '../../composition/core';
import type { Part } from '../../composition/root';
import { createEndpointStore, type EndpointStore } from './endpoint-store';
import { createNotificationLogStore, type NotificationLogStore } from './log-store';

/** The endpoints rules send to, on the root's table. */
export const endpointStore: Part<EndpointStore> = (rota) => createEndpointStore(rota.get(table));

/** What each rule sent, on the root's table, kept as long as runs are. */
export const notificationLogStore: Part<NotificationLogStore> = (rota) =>
  createNotificationLogStore({ ...rota.get(table), retentionMs: retentionMs(rota) });
