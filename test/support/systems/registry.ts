import { createSystemRegistry, SYSTEM_MODULES } from '../../../lib/systems/registry';
import { backupsModule } from './backups';

/** Rota's systems plus the test-only ones, registered exactly as a shipped system is. */
export const TEST_SYSTEMS = createSystemRegistry([...SYSTEM_MODULES, backupsModule]);
