import type { Server } from 'node:http';
import {
  Inject,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_GUARD, HttpAdapterHost } from '@nestjs/core';

import { AlertRepository } from './alerts/alert.repository.js';
import { AlertEvidenceService } from './alerts/alert-evidence.service.js';
import { AlertService } from './alerts/alert.service.js';
import { AlertsController } from './alerts/alerts.controller.js';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { ApiKeyRepository } from './auth/api-key.repository.js';
import { ApiKeyService } from './auth/api-key.service.js';
import { ApiKeysController } from './auth/api-keys.controller.js';
import { JsonLogger } from './common/json.logger.js';
import { APP_CONFIG, type AppConfig } from './config/app.config.js';
import { DATABASE, type Database } from './database/database.js';
import { DetectionService } from './detection/detection.service.js';
import { PendingDetectionRepository } from './detection/pending-detection.repository.js';
import { GraphController } from './graph/graph.controller.js';
import { GraphService } from './graph/graph.service.js';
import { ExplorerController } from './explorer/explorer.controller.js';
import { HealthController } from './health/health.controller.js';
import { HealthService } from './health/health.service.js';
import { EventRepository } from './ingest/event.repository.js';
import { SysmonEventRepository } from './ingest/sysmon-event.repository.js';
import { CorrelationLoader } from './detection/correlation.loader.js';
import { DeviceUnitRepository } from './detection/device-unit.repository.js';
import { SuppressionRepository } from './suppressions/suppression.repository.js';
import { DeviceRepository } from './devices/device.repository.js';
import { DeviceService } from './devices/device.service.js';
import { DevicesController } from './devices/devices.controller.js';
import { SuppressionService } from './suppressions/suppression.service.js';
import { SuppressionsController } from './suppressions/suppressions.controller.js';
import { IngestController } from './ingest/ingest.controller.js';
import { IngestService } from './ingest/ingest.service.js';
import { RuleRepository } from './rules/rule.repository.js';
import { RuleService } from './rules/rule.service.js';
import { RulesController } from './rules/rules.controller.js';
import { ALERT_CHANGE_LISTENER } from './alerts/alert-change.js';
import { WebhookDispatcher } from './webhooks/webhook.dispatcher.js';
import { WebhookOutbox } from './webhooks/webhook.outbox.js';
import { WebhookRepository } from './webhooks/webhook.repository.js';
import { WebhookService } from './webhooks/webhook.service.js';
import { WebhooksController } from './webhooks/webhooks.controller.js';

/** Closes the database when Nest shuts down (SIGTERM/SIGINT via enableShutdownHooks, or app.close()). */
class DatabaseCloser implements OnApplicationShutdown {
  private readonly logger = JsonLogger.for('shutdown');

  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async onApplicationShutdown(signal?: string): Promise<void> {
    await this.db.close();
    this.logger.info('database closed', { signal: signal ?? null });
  }
}

/**
 * Bounds a graceful shutdown: idle keep-alive connections close at once, and requests still running after
 * the grace period (a stalled upload, say) have their connections closed, so the process always exits.
 * Batches an interrupted ingest had committed stay stored and are detected at the next start.
 */
class ShutdownGrace implements BeforeApplicationShutdown {
  private readonly logger = JsonLogger.for('shutdown');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  beforeApplicationShutdown(signal?: string): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    this.logger.info('shutting down', { signal: signal ?? null, graceMs: this.config.shutdownGraceMs });
    if (!server) return;

    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), this.config.shutdownGraceMs).unref();
  }
}

/**
 * The application. The database is opened and migrated before Nest starts (see bootstrap) and handed in,
 * so tests can give each app its own database.
 */
@Module({})
export class AppModule {
  static register(config: AppConfig, db: Database): DynamicModule {
    const repository = <T>(type: new (db: Database) => T) => ({ provide: type, useFactory: () => new type(db) });

    return {
      module: AppModule,
      controllers: [
        IngestController,
        AlertsController,
        RulesController,
        GraphController,
        SuppressionsController,
        DevicesController,
        ApiKeysController,
        WebhooksController,
        HealthController,
        ExplorerController,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: DATABASE, useValue: db },
        repository(EventRepository),
        repository(AlertRepository),
        repository(RuleRepository),
        repository(PendingDetectionRepository),
        repository(SysmonEventRepository),
        repository(DeviceUnitRepository),
        repository(SuppressionRepository),
        repository(DeviceRepository),
        repository(ApiKeyRepository),
        repository(WebhookRepository),
        WebhookService,
        WebhookOutbox,
        WebhookDispatcher,
        { provide: ALERT_CHANGE_LISTENER, useExisting: WebhookOutbox },
        ApiKeyService,
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        CorrelationLoader,
        DatabaseCloser,
        ShutdownGrace,
        RuleService,
        AlertService,
        AlertEvidenceService,
        DetectionService,
        IngestService,
        GraphService,
        SuppressionService,
        DeviceService,
        HealthService,
      ],
    };
  }
}
