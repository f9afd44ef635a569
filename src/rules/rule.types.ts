/** Settings of the rule "ADWS connection from process injection target". Validated on load and on PUT. */

export const ADWS_RULE_ID = 'adws-connection-from-process-injection-target';

/**
 * An injector exclusion. Every field that is set must match (compared without case); an
 * exclusion sets at least one of `injectorFileName` and `injectorFolderPath`.
 * `folderPathMatch` says how `injectorFolderPath` compares with the event's folder path.
 */
export interface InjectorExclusion {
  description: string;
  injectorFileName: string | null;
  injectorFolderPath: string | null;
  folderPathMatch: 'equals' | 'startsWith';
}

export interface AdwsRuleSettings {
  timeframeMinutes: number;
  adwsPorts: number[];
  exclusions: InjectorExclusion[];
}

export const DEFAULT_EXCLUSIONS: readonly InjectorExclusion[] = [
  {
    description: 'VMware Tools',
    injectorFileName: 'vmtoolsd.exe',
    injectorFolderPath: 'c:\\program files\\vmware\\vmware tools',
    folderPathMatch: 'startsWith',
  },
  {
    description: 'Client/server runtime (folder path given as a directory)',
    injectorFileName: 'csrss.exe',
    injectorFolderPath: 'c:\\windows\\system32',
    folderPathMatch: 'equals',
  },
  {
    description: 'Client/server runtime (folder path given as the full image path)',
    injectorFileName: null,
    injectorFolderPath: 'c:\\windows\\system32\\csrss.exe',
    folderPathMatch: 'equals',
  },
  {
    description: 'Azure AD Connect synchronisation service',
    injectorFileName: 'miiserver.exe',
    injectorFolderPath: 'c:\\program files\\microsoft azure ad sync\\',
    folderPathMatch: 'startsWith',
  },
];

export const DEFAULT_ADWS_RULE_SETTINGS: AdwsRuleSettings = {
  timeframeMinutes: 120,
  adwsPorts: [9389],
  exclusions: DEFAULT_EXCLUSIONS.map((e) => ({ ...e })),
};
