import { Inject, Injectable } from '@nestjs/common';

import { EventRepository, type RawEvent } from '../ingest/event.repository.js';
import { AlertService } from './alert.service.js';

export interface AlertEvidence {
  alertId: string;
  /** The stored events behind the alert, in the order of its evidence list, each as it was received. */
  items: RawEvent[];
}

/** The raw events an alert cites: what an analyst opens to check the detector's reading of them. */
@Injectable()
export class AlertEvidenceService {
  constructor(
    @Inject(AlertService) private readonly alerts: AlertService,
    @Inject(EventRepository) private readonly events: EventRepository,
  ) {}

  async evidenceOf(alertId: string): Promise<AlertEvidence> {
    const alert = await this.alerts.get(alertId);

    return { alertId: alert.id, items: await this.events.getRawEvents(alert.evidence) };
  }
}
