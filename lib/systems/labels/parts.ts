import { table } from '../../composition/core';
import type { Part } from '../../composition/root';
import { createLabelStore, type LabelStore } from './label-store';

/** Labels and their mappings, on the root's table. */
export const labelStore: Part<LabelStore> = (rota) => createLabelStore(rota.get(table));
