import type { InjectorExclusion } from '../rules/rule.types.js';

/**
 * The first exclusion that covers an injector, or null. Every set field of an exclusion must match,
 * compared without case: the file name equals the injector's, the folder path equals or prefixes
 * (`folderPathMatch`) the injection event's InitiatingProcessFolderPath. A null file name or folder
 * path on the event matches no condition on that field. An exclusion that sets no field matches
 * nothing (settings validation rejects it; this keeps a bad one from silencing the rule).
 */
export function matchingExclusion(
  injectorFileName: string | null,
  injectorFolderPath: string | null,
  exclusions: readonly InjectorExclusion[],
): InjectorExclusion | null {
  const fileName = injectorFileName?.toLowerCase() ?? null;
  const folderPath = injectorFolderPath?.toLowerCase() ?? null;

  return exclusions.find((exclusion) => exclusionMatches(exclusion, fileName, folderPath)) ?? null;
}

function exclusionMatches(exclusion: InjectorExclusion, fileName: string | null, folderPath: string | null): boolean {
  if (exclusion.injectorFileName === null && exclusion.injectorFolderPath === null) return false;

  return fileNameMatches(exclusion, fileName) && folderPathMatches(exclusion, folderPath);
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
