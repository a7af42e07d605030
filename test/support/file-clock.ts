import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { vi } from 'vitest';

/**
 * Waits until the file system's clock has moved past `file`'s last change: a file written now gets a later ctime.
 * Renaming `file` after that gives it a ctime newer than its mtime (file-stamp.ts, writtenBeforeLastChange). The
 * clock's tick is the kernel's (a few ms, or finer); this polls a probe file beside `file` rather than sleeping.
 */
export async function untilClockPasses(file: string): Promise<void> {
  const changed = statSync(file, { bigint: true }).ctimeNs;
  const probe = path.join(path.dirname(file), `.clock-probe-${process.pid}`);
  await vi.waitFor(
    () => {
      writeFileSync(probe, '');
      if (statSync(probe, { bigint: true }).ctimeNs <= changed) throw new Error('the file system clock has not moved yet');
    },
    { timeout: 5_000, interval: 1 },
  );
}
