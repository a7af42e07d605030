import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { killAllEmperors } from './emperor.js';
import { tempDir } from './temp-dir.js';

export interface Sandbox {
  /** This test's own directory (fresh for every test). */
  readonly path: string;
  /** A path inside it. */
  file(name: string): string;
}

/**
 * Gives every test of the calling file its own temp directory, and after each test kills every emperor it started
 * (and anything those left behind) before removing the directory. Call once at the top of a test file.
 */
export function sandbox(prefix = 'sv'): Sandbox {
  let current: Awaited<ReturnType<typeof tempDir>> | undefined;
  beforeEach(async () => {
    current = await tempDir(prefix);
  });
  afterEach(async () => {
    await killAllEmperors();
    await current?.remove();
    current = undefined;
  });
  return {
    get path(): string {
      if (!current) throw new Error('sandbox used outside a test');
      return current.path;
    },
    file: (name) => path.join(current?.path ?? '', name),
  };
}
