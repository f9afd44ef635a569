import { describe, expect, it } from 'vitest';

import { namesInvolved, planUnits } from '../../../src/detection/device-unit.resolver.js';

const DEVICE_A = 'a1b2c3';
const DEVICE_B = 'f0e1d2';
const WS5 = 'host:ws5.corp.local';

describe('planUnits: which Sysmon hosts share a Defender device’s graph', () => {
  it('keeps a Defender device without named hosts on its own', () => {
    const plan = planUnits([DEVICE_A], { names: [[DEVICE_A, 'ws9.corp.local']], hostsWithEvents: new Set() });

    expect(plan.units).toEqual([{ deviceId: DEVICE_A, defenderIds: [DEVICE_A], hostIds: [] }]);
    expect(plan.reconcileIds).toEqual([DEVICE_A]);
  });

  it('puts a touched host into the graph of the device that reported its name, and reconciles both', () => {
    const plan = planUnits([WS5], { names: [[DEVICE_A, 'ws5.corp.local']], hostsWithEvents: new Set([WS5]) });

    expect(plan.units).toEqual([{ deviceId: DEVICE_A, defenderIds: [DEVICE_A], hostIds: [WS5] }]);
    expect(plan.reconcileIds).toEqual([DEVICE_A, WS5]);
  });

  it('pulls in the host of a touched device’s name', () => {
    const plan = planUnits([DEVICE_A], { names: [[DEVICE_A, 'ws5.corp.local']], hostsWithEvents: new Set([WS5]) });

    expect(plan.units).toEqual([{ deviceId: DEVICE_A, defenderIds: [DEVICE_A], hostIds: [WS5] }]);
  });

  it('gives a host no Defender device names a unit of its own', () => {
    const plan = planUnits([WS5], { names: [], hostsWithEvents: new Set([WS5]) });

    expect(plan.units).toEqual([{ deviceId: WS5, defenderIds: [], hostIds: [WS5] }]);
  });

  it('gives a name two devices share to the smaller device id, whichever is touched, and reconciles both', () => {
    const names = [
      [DEVICE_B, 'ws5.corp.local'],
      [DEVICE_A, 'ws5.corp.local'],
    ] as const;
    const fromB = planUnits([DEVICE_B], { names, hostsWithEvents: new Set([WS5]) });
    const fromHost = planUnits([WS5], { names, hostsWithEvents: new Set([WS5]) });

    for (const plan of [fromB, fromHost]) {
      expect(plan.units).toEqual([
        { deviceId: DEVICE_A, defenderIds: [DEVICE_A], hostIds: [WS5] },
        { deviceId: DEVICE_B, defenderIds: [DEVICE_B], hostIds: [] },
      ]);
      expect(plan.reconcileIds).toEqual([DEVICE_A, DEVICE_B, WS5]);
    }
  });

  it('lists the names a detection involves', () => {
    const names = [
      [DEVICE_A, 'ws5.corp.local'],
      [DEVICE_B, 'other'],
    ] as const;

    expect(namesInvolved([DEVICE_A, 'host:dc1'], names)).toEqual(['dc1', 'ws5.corp.local']);
  });
});
