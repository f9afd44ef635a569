import { ApiProperty } from '@nestjs/swagger';

import { EnumField, IntArrayField, IntField, NestedArrayField, TextField } from '../common/api-field.decorators.js';

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
}

export class AdwsRuleSettingsDto {
  @IntField({
    description: 'Largest gap between injection and ADWS connection, either order',
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
