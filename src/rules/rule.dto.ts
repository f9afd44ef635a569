import { ApiProperty } from '@nestjs/swagger';

import {
  BoolField,
  EnumField,
  IntArrayField,
  IntField,
  NestedArrayField,
  TextField,
} from '../common/api-field.decorators.js';
import { MAX_DEVICE_ID_LENGTH } from '../vocabulary/graph.vocabulary.js';
import { GRAPH_MODE_DEFAULTS, RULE_MODES, type RuleMode } from './rule.types.js';

export class InjectorExclusionDto {
  @TextField({ description: 'Why this injector is excluded', maxLength: 500, example: 'VMware Tools' })
  description: string;

  @TextField({
    description: 'Injector image name, compared without case; null matches any name',
    maxLength: 260,
    nullable: true,
    optional: true,
    example: 'vmtoolsd.exe',
  })
  injectorFileName: string | null;

  @TextField({
    description: 'Injector folder path (InitiatingProcessFolderPath), compared without case; null matches any path',
    maxLength: 1024,
    nullable: true,
    optional: true,
    example: 'c:\\program files\\vmware\\vmware tools',
  })
  injectorFolderPath: string | null;

  @EnumField({
    description: 'How injectorFolderPath compares with the event folder path',
    values: ['equals', 'startsWith'],
    example: 'startsWith',
  })
  folderPathMatch: 'equals' | 'startsWith';

  @TextField({
    description: 'Injected (target) image name, compared without case; null matches any target',
    maxLength: 260,
    nullable: true,
    optional: true,
    example: 'searchprotocolhost.exe',
  })
  targetFileName?: string | null;

  @TextField({
    description: 'Device the exclusion applies to (DeviceId, or host:<name> for a Sysmon host); null for every device',
    maxLength: MAX_DEVICE_ID_LENGTH,
    nullable: true,
    optional: true,
    example: 'host:build01.corp.local',
  })
  deviceId?: string | null;
}

export class AdwsRuleSettingsDto {
  @EnumField({
    description:
      'reference: the public rule exactly (pid + name identity, either order within the timeframe); graph: process ' +
      `lifetimes, injection before connection, chains and descendants. Default ${GRAPH_MODE_DEFAULTS.mode}.`,
    values: RULE_MODES,
    optional: true,
    example: 'graph',
  })
  mode?: RuleMode;

  @IntField({
    description:
      'Reference mode: largest gap between injection and ADWS connection, either order. Graph mode: longest span ' +
      'from the first injection to the connection',
    min: 1,
    max: 10080,
    example: 120,
  })
  timeframeMinutes: number;

  @IntArrayField({
    description: 'Remote ports that count as AD Web Services',
    min: 1,
    max: 65535,
    minItems: 1,
    maxItems: 64,
    example: [9389],
  })
  adwsPorts: number[];

  @NestedArrayField({
    description: 'Injectors whose injections are not evidence',
    type: () => InjectorExclusionDto,
    maxItems: 500,
  })
  exclusions: InjectorExclusionDto[];

  @IntField({
    description: `Graph mode: how many seconds before its injection a connection may be stamped (default ${GRAPH_MODE_DEFAULTS.clockSkewSeconds})`,
    min: 0,
    max: 3600,
    optional: true,
    example: 30,
  })
  clockSkewSeconds?: number;

  @IntField({
    description: `Graph mode: most injection and spawn hops from the first injector to the connecting process (default ${GRAPH_MODE_DEFAULTS.maxChainDepth})`,
    min: 1,
    max: 8,
    optional: true,
    example: 4,
  })
  maxChainDepth?: number;

  @BoolField({
    description: `Graph mode: a connection by a descendant of an injected process counts (default ${GRAPH_MODE_DEFAULTS.followDescendants})`,
    optional: true,
    example: true,
  })
  followDescendants?: boolean;
}

export class RuleDto {
  @ApiProperty({ example: 'adws-connection-from-process-injection-target' })
  id: string;

  @ApiProperty({ example: 'ADWS connection from process injection target' })
  name: string;

  @ApiProperty({ description: 'What the rule detects' })
  description: string;

  @ApiProperty({ type: AdwsRuleSettingsDto })
  settings: AdwsRuleSettingsDto;

  @ApiProperty({ description: 'The default settings, for reference', type: AdwsRuleSettingsDto })
  defaults: AdwsRuleSettingsDto;
}

export class RerunResultDto {
  @ApiProperty({ description: 'Devices re-evaluated' })
  devices: number;

  @ApiProperty({ description: 'Alerts created' })
  created: number;

  @ApiProperty({ description: 'Alerts whose evidence changed' })
  updated: number;

  @ApiProperty({ description: 'Alerts whose evidence no longer satisfies the rule' })
  retracted: number;

  @ApiProperty({ description: 'Milliseconds spent' })
  durationMs: number;
}
