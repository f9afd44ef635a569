/** Settings of the rule "ADWS connection from process injection target". Validated on load and on PUT. */

export const ADWS_RULE_ID = 'adws-connection-from-process-injection-target';

/**
 * An exclusion of injections that are not evidence. Every field that is set must match (compared without case);
 * an exclusion sets at least one of them. `folderPathMatch` says how `injectorFolderPath` compares with the
 * event's folder path (a directory or a full image path, as Defender and Sysmon give it).
 */
export interface InjectorExclusion {
  description: string;
  injectorFileName: string | null;
  injectorFolderPath: string | null;
  folderPathMatch: 'equals' | 'startsWith';
  /** The injected process's image name. */
  targetFileName: string | null;
  /** The device (DeviceId, or `host:<name>` for a Sysmon host). */
  deviceId: string | null;
}

/**
 * `reference` reproduces the public rule exactly (rules 1-6); `graph` follows process lifetimes, order, chains and
 * descendants (see src/detection/README.md).
 */
export const RULE_MODES = ['reference', 'graph'] as const;
export type RuleMode = (typeof RULE_MODES)[number];

export interface AdwsRuleSettings {
  mode: RuleMode;
  /** Reference: largest gap between injection and connection, either order. Graph: longest injection → connection span. */
  timeframeMinutes: number;
  adwsPorts: number[];
  exclusions: InjectorExclusion[];
  /** Graph mode: how much earlier than its injection a connection may be stamped (clocks and batching skew). */
  clockSkewSeconds: number;
  /** Graph mode: most edges between the first injector and the connecting process (injections and spawns). */
  maxChainDepth: number;
  /** Graph mode: a connection by a descendant of an injected process counts (marked on the alert). */
  followDescendants: boolean;
}

export const DEFAULT_EXCLUSIONS: readonly InjectorExclusion[] = [
  {
    description: 'VMware Tools',
    injectorFileName: 'vmtoolsd.exe',
    injectorFolderPath: 'c:\\program files\\vmware\\vmware tools',
    folderPathMatch: 'startsWith',
    targetFileName: null,
    deviceId: null,
  },
  {
    description: 'Client/server runtime (folder path given as a directory)',
    injectorFileName: 'csrss.exe',
    injectorFolderPath: 'c:\\windows\\system32',
    folderPathMatch: 'equals',
    targetFileName: null,
    deviceId: null,
  },
  {
    description: 'Client/server runtime (folder path given as the full image path)',
    injectorFileName: null,
    injectorFolderPath: 'c:\\windows\\system32\\csrss.exe',
    folderPathMatch: 'equals',
    targetFileName: null,
    deviceId: null,
  },
  {
    description: 'Azure AD Connect synchronisation service',
    injectorFileName: 'miiserver.exe',
    injectorFolderPath: 'c:\\program files\\microsoft azure ad sync\\',
    folderPathMatch: 'startsWith',
    targetFileName: null,
    deviceId: null,
  },
];

/** The settings added with graph mode, filled in where stored or sent settings predate them. */
export const GRAPH_MODE_DEFAULTS = {
  mode: 'graph',
  clockSkewSeconds: 30,
  maxChainDepth: 4,
  followDescendants: true,
} as const satisfies Partial<AdwsRuleSettings>;

export const DEFAULT_ADWS_RULE_SETTINGS: AdwsRuleSettings = {
  ...GRAPH_MODE_DEFAULTS,
  timeframeMinutes: 120,
  adwsPorts: [9389],
  exclusions: DEFAULT_EXCLUSIONS.map((e) => ({ ...e })),
};
