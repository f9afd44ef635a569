import { Inject, Injectable } from '@nestjs/common';

import { DATABASE, type Database } from '../database/database.js';
import { migrationStatus } from '../database/migrator.js';
import { JsonLogger } from '../common/json.logger.js';

export interface HealthReport {
  status: 'ok' | 'degraded';
  database: Database['kind'];
  databaseReachable: boolean;
  migrationsApplied: number;
  migrationsPending: string[];
}

@Injectable()
export class HealthService {
  private readonly logger = JsonLogger.for(HealthService.name);

  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async check(): Promise<HealthReport> {
    try {
      const { applied, pending } = await migrationStatus(this.db);
      const status = pending.length === 0 ? 'ok' : 'degraded';

      return {
        status,
        database: this.db.kind,
        databaseReachable: true,
        migrationsApplied: applied,
        migrationsPending: pending,
      };
    } catch (error) {
      this.logger.warning('health check could not reach the database', { error });

      return {
        status: 'degraded',
        database: this.db.kind,
        databaseReachable: false,
        migrationsApplied: 0,
        migrationsPending: [],
      };
    }
  }
}
