import type { InjectorExclusion } from '../rules/rule.types.js';

/** The injected process and its device, for exclusions that name a target or a device. */
export interface ExclusionTarget {
  fileName: string | null;
  deviceId: string | null;
}

const NO_TARGET: ExclusionTarget = { fileName: null, deviceId: null };

/**
 * The first exclusion that covers an injection, or null. Every set field of an exclusion must match,
 * compared without case: the file name equals the injector's, the folder path equals or prefixes
 * (`folderPathMatch`) the injection event's InitiatingProcessFolderPath (Sysmon: the full SourceImage), the
 * target name equals the injected image's, the device id equals the device's. A null value on the event
 * matches no condition on that field. An exclusion that sets no injector or target field matches nothing
 * (settings validation rejects it; this keeps a bad one from silencing the rule).
 */
export function matchingExclusion(
  injectorFileName: string | null,
  injectorFolderPath: string | null,
  exclusions: readonly InjectorExclusion[],
  target: ExclusionTarget = NO_TARGET,
): InjectorExclusion | null {
  const fileName = injectorFileName?.toLowerCase() ?? null;
  const folderPath = injectorFolderPath?.toLowerCase() ?? null;
  const subject = { fileName: target.fileName?.toLowerCase() ?? null, deviceId: target.deviceId };

  return exclusions.find((exclusion) => exclusionMatches(exclusion, fileName, folderPath, subject)) ?? null;
}

function exclusionMatches(
  exclusion: InjectorExclusion,
  fileName: string | null,
  folderPath: string | null,
  target: ExclusionTarget,
): boolean {
  const { injectorFileName, injectorFolderPath, targetFileName } = exclusion;
  if (injectorFileName === null && injectorFolderPath === null && !targetFileName) return false;

  return (
    fileNameMatches(exclusion, fileName) &&
    folderPathMatches(exclusion, folderPath) &&
    equalsWithoutCase(targetFileName ?? null, target.fileName) &&
    deviceMatches(exclusion, target.deviceId)
  );
}

function equalsWithoutCase(wanted: string | null, actual: string | null): boolean {
  if (wanted === null) return true;

  return actual !== null && actual === wanted.toLowerCase();
}

/** Whether an exclusion applies on this device: one without a device applies everywhere. */
export function deviceMatches(exclusion: InjectorExclusion, deviceId: string | null): boolean {
  const wanted = exclusion.deviceId ?? null;

  return wanted === null || (deviceId !== null && deviceId.toLowerCase() === wanted.toLowerCase());
}

function fileNameMatches(exclusion: InjectorExclusion, fileName: string | null): boolean {
  if (exclusion.injectorFileName === null) return true;

  return fileName !== null && fileName === exclusion.injectorFileName.toLowerCase();
}

function folderPathMatches(exclusion: InjectorExclusion, folderPath: string | null): boolean {
  if (exclusion.injectorFolderPath === null) return true;
  if (folderPath === null) return false;

  const wanted = exclusion.injectorFolderPath.toLowerCase();

  return exclusion.folderPathMatch === 'startsWith' ? folderPath.startsWith(wanted) : folderPath === wanted;
}
