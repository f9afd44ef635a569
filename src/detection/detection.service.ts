import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';

import { AlertService, type ReconcileOutcome } from '../alerts/alert.service.js';
import { JsonLogger } from '../common/json.logger.js';
import { SerialQueue } from '../common/serial-queue.js';
import { EventRepository } from '../ingest/event.repository.js';
import { SysmonEventRepository } from '../ingest/sysmon-event.repository.js';
import { RuleService } from '../rules/rule.service.js';
import { PendingDetectionRepository } from './pending-detection.repository.js';
import { SuppressionRepository } from '../suppressions/suppression.repository.js';
import { ADWS_RULE_ID, type AdwsRuleSettings } from '../rules/rule.types.js';
import { detectAlertCandidates } from './adws-rule.detector.js';
import type { AlertCandidate } from './alert.types.js';
import { CorrelationLoader, reachOf } from './correlation.loader.js';
import { DeviceUnitRepository } from './device-unit.repository.js';
import type { DeviceUnit } from './device-unit.resolver.js';
import { buildDeviceGraph, identityOf } from './graph.builder.js';

/** Devices whose events are loaded and correlated in one round trip. */
const DEVICE_CHUNK = 500;

export interface DetectionOutcome extends ReconcileOutcome {
  devices: number;
  durationMs: number;
}

/**
 * Runs the rule for a set of devices: groups them into correlation units (a Defender device with the Sysmon
 * hosts of its names, see device-unit.resolver.ts), loads each unit's candidate events, builds its process
 * graph, derives alert candidates and hands them to the alert service. Runs are serialized (see SerialQueue).
 */
@Injectable()
export class DetectionService implements OnApplicationBootstrap {
  private readonly logger = JsonLogger.for(DetectionService.name);
  private readonly queue = new SerialQueue();

  constructor(
    @Inject(EventRepository) private readonly events: EventRepository,
    @Inject(SysmonEventRepository) private readonly sysmon: SysmonEventRepository,
    @Inject(DeviceUnitRepository) private readonly deviceUnits: DeviceUnitRepository,
    @Inject(CorrelationLoader) private readonly loader: CorrelationLoader,
    @Inject(SuppressionRepository) private readonly suppressions: SuppressionRepository,
    @Inject(PendingDetectionRepository) private readonly pending: PendingDetectionRepository,
    @Inject(RuleService) private readonly rules: RuleService,
    @Inject(AlertService) private readonly alerts: AlertService,
  ) {}

  /** Devices whose events were stored but never correlated (the process stopped in between) are detected now. */
  async onApplicationBootstrap(): Promise<void> {
    const deviceIds = await this.pending.pendingDevices();
    if (deviceIds.length === 0) return;

    this.logger.warning('detecting devices left pending by an earlier run', { deviceCount: deviceIds.length });
    const outcome = await this.detectDevices(deviceIds);
    this.logger.info('pending devices detected', { ...outcome });
  }

  // TODO: runs are serialized inside one process only. Several instances on one database would need a
  // per-device lock (pg_advisory_xact_lock on a hash of the device id) around load + reconcile.
  detectDevices(deviceIds: string[]): Promise<DetectionOutcome> {
    return this.queue.run(() => this.detect([...new Set(deviceIds)]));
  }

  /** Re-evaluates every device that has an ADWS connection or an alert, under the current settings. */
  async rerun(ruleId: string): Promise<DetectionOutcome> {
    await this.rules.getRule(ruleId);

    return this.queue.run(async () => {
      const settings = await this.rules.getSettings();
      const withConnections = [
        ...(await this.events.devicesWithAdwsConnections(settings.adwsPorts)),
        ...(await this.sysmon.hostsWithAdwsConnections(settings.adwsPorts)),
      ];
      const withAlerts = await this.alerts.devicesWithAlerts(ADWS_RULE_ID);
      const pending = await this.pending.pendingDevices();

      return this.detect([...new Set([...withConnections, ...withAlerts, ...pending])].sort());
    });
  }

  private async detect(deviceIds: string[]): Promise<DetectionOutcome> {
    const started = performance.now();
    const settings = await this.rules.getSettings();
    const total: DetectionOutcome = { devices: deviceIds.length, created: 0, updated: 0, retracted: 0, durationMs: 0 };

    for (let i = 0; i < deviceIds.length; i += DEVICE_CHUNK) {
      const chunk = deviceIds.slice(i, i + DEVICE_CHUNK);
      const marks = await this.pending.marksFor(chunk);
      const plan = await this.deviceUnits.plan(chunk);
      const candidates = await this.candidatesFor(plan.units, settings);
      const now = new Date().toISOString();
      const suppressions = await this.suppressions.active(now);
      const outcome = await this.alerts.reconcile(ADWS_RULE_ID, plan.reconcileIds, candidates, now, suppressions);
      await this.pending.clear(marks);
      total.created += outcome.created;
      total.updated += outcome.updated;
      total.retracted += outcome.retracted;
    }

    total.durationMs = Math.round(performance.now() - started);
    this.logger.trace('detection finished', { ...total });
    return total;
  }

  // TODO: every run reloads each device's whole candidate history (injections into processes that reached
  // ADWS, and those connections), so a device's cost grows with its history; bound the load to the rule's
  // timeframe around the new events once retention is defined.
  private async candidatesFor(units: DeviceUnit[], settings: AdwsRuleSettings): Promise<AlertCandidate[]> {
    const byUnit = await this.loader.load(units, settings.adwsPorts, reachOf(settings));

    return [...byUnit].flatMap(([deviceId, events]) =>
      detectAlertCandidates(
        buildDeviceGraph(deviceId, events, settings.adwsPorts, identityOf(settings.mode)),
        settings,
      ),
    );
  }
}
