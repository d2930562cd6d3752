import { defineSystem } from '../system';
import { type CheckMetadata, checkMetadataSchema } from './model';

/** Monitoring checks, as InfluxDB builds them on its task system: one task per check. */
export const checksSystem = defineSystem<CheckMetadata>({ type: 'check', metadata: checkMetadataSchema });
