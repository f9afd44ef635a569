import { describe, expect, it } from 'vitest';

import { matchingExclusion } from '../../../src/detection/exclusion.matcher.js';
import { DEFAULT_EXCLUSIONS, type InjectorExclusion } from '../../../src/rules/rule.types.js';

const [vmware, csrssDirectory, csrssImage, miiserver] = DEFAULT_EXCLUSIONS;

describe('matchingExclusion with the default exclusions', () => {
  it.each([
    ['vmtoolsd.exe', 'C:\\Program Files\\VMware\\VMware Tools', vmware],
    ['VMTOOLSD.EXE', 'c:\\program files\\vmware\\vmware tools\\plugins', vmware],
    ['vmtoolsd.exe', 'c:\\program files\\vmware\\vmware toolsX', vmware],
    ['csrss.exe', 'C:\\Windows\\System32', csrssDirectory],
    ['anything.exe', 'C:\\WINDOWS\\system32\\CSRSS.exe', csrssImage],
    [null, 'c:\\windows\\system32\\csrss.exe', csrssImage],
    ['miiserver.exe', 'c:\\program files\\microsoft azure ad sync\\bin', miiserver],
  ])('%s in %s is excluded', (fileName, folderPath, expected) => {
    expect(matchingExclusion(fileName, folderPath, DEFAULT_EXCLUSIONS)).toBe(expected);
  });

  it.each([
    ['vmtoolsd.exe', 'c:\\temp'],
    ['vmtoolsd.exe', null],
    ['notvmtoolsd.exe', 'c:\\program files\\vmware\\vmware tools'],
    ['csrss.exe', 'c:\\windows\\system32\\'],
    ['csrss.exe', 'c:\\windows\\system32\\drivers'],
    ['csrss.exe', null],
    [null, 'c:\\windows\\system32'],
    ['miiserver.exe', 'c:\\program files\\microsoft azure ad sync'],
    ['rundll32.exe', 'c:\\windows\\system32'],
  ])('%s in %s is not excluded', (fileName, folderPath) => {
    expect(matchingExclusion(fileName, folderPath, DEFAULT_EXCLUSIONS)).toBeNull();
  });
});

describe('matchingExclusion with custom exclusions', () => {
  const byName: InjectorExclusion = {
    description: 'name only',
    injectorFileName: 'Tool.exe',
    injectorFolderPath: null,
    folderPathMatch: 'equals',
    targetFileName: null,
    deviceId: null,
  };
  const empty: InjectorExclusion = { ...byName, injectorFileName: null };
  const byTarget: InjectorExclusion = { ...empty, description: 'target', targetFileName: 'SearchProtocolHost.exe' };
  const onDevice: InjectorExclusion = { ...byName, description: 'one device', deviceId: 'host:build01' };

  it('matches a name-only exclusion in any folder, even none', () => {
    expect(matchingExclusion('TOOL.EXE', null, [byName])).toBe(byName);
    expect(matchingExclusion('tool.exe', 'd:\\x', [byName])).toBe(byName);
  });

  it('never matches an exclusion that sets no field', () => {
    expect(matchingExclusion('tool.exe', 'c:\\', [empty])).toBeNull();
  });

  it('matches a target name whatever the injector, and never without a target', () => {
    const target = { fileName: 'searchprotocolhost.EXE', deviceId: 'd1' };

    expect(matchingExclusion('any.exe', null, [byTarget], target)).toBe(byTarget);
    expect(matchingExclusion('any.exe', null, [byTarget], { ...target, fileName: 'notepad.exe' })).toBeNull();
    expect(matchingExclusion('any.exe', null, [byTarget])).toBeNull();
  });

  it('limits an exclusion to its device', () => {
    expect(matchingExclusion('tool.exe', null, [onDevice], { fileName: null, deviceId: 'HOST:build01' })).toBe(
      onDevice,
    );
    expect(matchingExclusion('tool.exe', null, [onDevice], { fileName: null, deviceId: 'host:build02' })).toBeNull();
  });
});
