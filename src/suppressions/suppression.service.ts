import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { UUID_PATTERN } from '../alerts/alert-id.js';
import { AlertService } from '../alerts/alert.service.js';
import { InvalidInputError, NotFoundError } from '../common/domain.errors.js';
import { JsonLogger } from '../common/json.logger.js';
import { DetectionService } from '../detection/detection.service.js';
import { ADWS_RULE_ID } from '../rules/rule.types.js';
import { SuppressionRepository } from './suppression.repository.js';
import { normalisedEntityValue, type Suppression, type SuppressionEntityType } from './suppression.types.js';

export interface NewSuppression {
  entityType: SuppressionEntityType;
  value: string;
  durationMinutes: number;
  reason: string;
}

/**
 * Per-entity suppressions. Creating or lifting one re-derives the alerts it can touch at once, so a held-back alert
 * says so (status `suppressed`, with the suppression) and a released one is `new` again; an expired one releases
 * its alerts at their device's next detection or re-run. An alert's own status changes never touch a suppression.
 */
@Injectable()
export class SuppressionService {
  private readonly logger = JsonLogger.for(SuppressionService.name);

  constructor(
    @Inject(SuppressionRepository) private readonly suppressions: SuppressionRepository,
    @Inject(AlertService) private readonly alerts: AlertService,
    @Inject(DetectionService) private readonly detection: DetectionService,
  ) {}

  async create(input: NewSuppression, now: Date): Promise<Suppression> {
    const entityValue = normalisedEntityValue(input.entityType, input.value);
    if (entityValue === '') throw new InvalidInputError('value must not be blank', { field: 'value' });

    const suppression: Suppression = {
      id: randomUUID(),
      entityType: input.entityType,
      entityValue,
      reason: input.reason,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + input.durationMinutes * 60_000).toISOString(),
      liftedAt: null,
    };
    await this.suppressions.insert(suppression);
    this.logger.info('suppression created', { ...suppression });
    await this.rederive(suppression);

    return suppression;
  }

  list(activeOnly: boolean, now: Date): Promise<Suppression[]> {
    return activeOnly ? this.suppressions.active(now.toISOString()) : this.suppressions.all();
  }

  async lift(id: string, now: Date): Promise<Suppression> {
    const existing = UUID_PATTERN.test(id) ? await this.suppressions.get(id) : null;
    if (existing === null) throw new NotFoundError(`suppression ${id} does not exist`);

    await this.suppressions.lift(id, now.toISOString());
    this.logger.info('suppression lifted', { id });
    await this.rederive(existing);

    return (await this.suppressions.get(id))!;
  }

  /**
   * Re-derives the alerts of the suppression's device, or of every device with alerts for a name.
   * TODO: a name suppression re-runs detection (load, build, search) on every device with alerts only to change
   * their status; the stored alerts hold what suppressionFor reads (device, target and injector names), so the
   * suppressions could be re-applied to them without detection. Cost grows with the devices that have alerts.
   */
  private async rederive(suppression: Suppression): Promise<void> {
    const deviceIds =
      suppression.entityType === 'device'
        ? [suppression.entityValue]
        : await this.alerts.devicesWithAlerts(ADWS_RULE_ID);
    await this.detection.detectDevices(deviceIds);
  }
}
