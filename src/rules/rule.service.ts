import { Inject, Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { InvalidInputError, NotFoundError } from '../common/domain.errors.js';
import { JsonLogger } from '../common/json.logger.js';
import { AdwsRuleSettingsDto } from './rule.dto.js';
import { RuleRepository } from './rule.repository.js';
import { ADWS_RULE_ID, DEFAULT_ADWS_RULE_SETTINGS, GRAPH_MODE_DEFAULTS, type AdwsRuleSettings } from './rule.types.js';

export interface RuleView {
  id: string;
  name: string;
  description: string;
  settings: AdwsRuleSettings;
  defaults: AdwsRuleSettings;
}

const ADWS_RULE_DESCRIPTION =
  'A process that was the target of a process-injection API call (or, in graph mode, a process reached through a ' +
  'chain of injections or descending from an injected one) connects to Active Directory Web Services (ADWS): the ' +
  'pattern of tools such as SOAPHound running inside an injected, legitimate process. Reference mode pairs ' +
  'injection and connection within the timeframe in either order; graph mode requires the injection first.';

/** Rule settings: validated on load and on update, cached, defaults when nothing is stored. */
@Injectable()
export class RuleService {
  private readonly logger = JsonLogger.for(RuleService.name);
  private cached: AdwsRuleSettings | null = null;

  constructor(@Inject(RuleRepository) private readonly rules: RuleRepository) {}

  async getRule(ruleId: string): Promise<RuleView> {
    assertKnownRule(ruleId);

    return {
      id: ADWS_RULE_ID,
      name: 'ADWS connection from process injection target',
      description: ADWS_RULE_DESCRIPTION,
      settings: await this.getSettings(),
      defaults: structuredClone(DEFAULT_ADWS_RULE_SETTINGS),
    };
  }

  async getSettings(): Promise<AdwsRuleSettings> {
    if (this.cached) return structuredClone(this.cached);

    const stored = await this.rules.getSettings(ADWS_RULE_ID);
    this.cached = stored === null ? structuredClone(DEFAULT_ADWS_RULE_SETTINGS) : validateSettings(stored, 'stored');
    return structuredClone(this.cached);
  }

  async updateSettings(ruleId: string, input: AdwsRuleSettingsDto, now: string): Promise<RuleView> {
    assertKnownRule(ruleId);

    const settings = validateSettings(input, 'request');
    await this.rules.saveSettings(ADWS_RULE_ID, settings, now);
    this.cached = settings;
    this.logger.info('rule settings updated', {
      ruleId,
      mode: settings.mode,
      timeframeMinutes: settings.timeframeMinutes,
      adwsPorts: settings.adwsPorts,
      exclusionCount: settings.exclusions.length,
    });

    return this.getRule(ruleId);
  }
}

function assertKnownRule(ruleId: string): void {
  if (ruleId !== ADWS_RULE_ID) throw new NotFoundError(`rule ${ruleId} does not exist`);
}

/** Settings from the database or a request, checked with the same rules as the DTO, in a plain shape. */
export function validateSettings(input: unknown, origin: 'stored' | 'request'): AdwsRuleSettings {
  const dto = plainToInstance(AdwsRuleSettingsDto, input);
  const problems = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
  if (problems.length > 0) {
    throw new InvalidInputError(`${origin} rule settings are invalid: ${problems.map((p) => p.toString()).join('; ')}`);
  }

  const exclusions = dto.exclusions.map((e, index) => {
    const exclusion = {
      description: e.description,
      injectorFileName: e.injectorFileName ?? null,
      injectorFolderPath: e.injectorFolderPath ?? null,
      folderPathMatch: e.folderPathMatch,
      targetFileName: e.targetFileName ?? null,
      deviceId: e.deviceId ?? null,
    };
    if (!exclusion.injectorFileName && !exclusion.injectorFolderPath && !exclusion.targetFileName) {
      const message = `exclusions[${index}] sets none of injectorFileName, injectorFolderPath and targetFileName`;
      throw new InvalidInputError(message, { field: `exclusions[${index}]` });
    }
    return exclusion;
  });
  const adwsPorts = [...new Set(dto.adwsPorts)].sort((a, b) => a - b);

  return {
    mode: dto.mode ?? GRAPH_MODE_DEFAULTS.mode,
    timeframeMinutes: dto.timeframeMinutes,
    adwsPorts,
    exclusions,
    clockSkewSeconds: dto.clockSkewSeconds ?? GRAPH_MODE_DEFAULTS.clockSkewSeconds,
    maxChainDepth: dto.maxChainDepth ?? GRAPH_MODE_DEFAULTS.maxChainDepth,
    followDescendants: dto.followDescendants ?? GRAPH_MODE_DEFAULTS.followDescendants,
  };
}
