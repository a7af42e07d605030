import { describe, expect, it } from 'vitest';
import { DEFAULT_RESCAN_MAX_MS, nextRescanMs, remoteFilesystem, rescanPolicy } from '../../src/emperor/rescan-schedule.js';

describe('the safety-net rescan schedule', () => {
  it('by default doubles while quiet, up to 30 s, and is back at the base after any activity', () => {
    const policy = rescanPolicy(3000, false);
    expect(policy).toEqual({ baseMs: 3000, maxMs: DEFAULT_RESCAN_MAX_MS });
    const seen: number[] = [];
    let ms = policy.baseMs;
    for (let i = 0; i < 6; i++) seen.push((ms = nextRescanMs(ms, policy, true)));
    expect(seen).toEqual([6000, 12000, 24000, 30000, 30000, 30000]);
    expect(nextRescanMs(30000, policy, false)).toBe(3000);
  });

  it('written (emperor-freq in the config) or off, it is fixed', () => {
    const fixed = rescanPolicy(500, true);
    expect(fixed).toEqual({ baseMs: 500, maxMs: 500 });
    expect(nextRescanMs(500, fixed, true)).toBe(500);
    expect(rescanPolicy(0, false)).toEqual({ baseMs: 0, maxMs: 0 });
    // A base above the default cap is never shortened.
    expect(rescanPolicy(60_000, false)).toEqual({ baseMs: 60_000, maxMs: 60_000 });
  });

  it('knows the filesystems whose remote changes make no event here, by statfs f_type', () => {
    expect(remoteFilesystem(0x6969)).toBe('nfs');
    expect(remoteFilesystem(0xff534d42)).toBe('cifs');
    expect(remoteFilesystem(0x65735546)).toBe('fuse');
    expect(remoteFilesystem(0x7461636f)).toBe('ocfs2');
    // A 32-bit long gives the large magic numbers as negative.
    expect(remoteFilesystem(0xff534d42 | 0)).toBe('cifs');
    // ext4, tmpfs, overlayfs: local, events come.
    for (const local of [0xef53, 0x01021994, 0x794c7630]) expect(remoteFilesystem(local)).toBeUndefined();
  });
});
