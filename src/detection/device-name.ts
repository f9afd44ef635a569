/** "dc01.corp.example" → host "dc01", domain "corp.example"; a name without a dot has no domain. */
export function splitDeviceName(deviceName: string): { hostName: string; dnsDomain: string } {
  const dot = deviceName.indexOf('.');
  if (dot < 0) return { hostName: deviceName, dnsDomain: '' };

  return { hostName: deviceName.slice(0, dot), dnsDomain: deviceName.slice(dot + 1) };
}
