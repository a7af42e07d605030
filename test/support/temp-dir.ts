import { mkdtemp, rm } from 'node:fs/promises';

/**
 * A fresh directory per test under /tmp, with a short path: unix socket paths are limited to 107 bytes, and tests
 * run in parallel, so every test gets its own sockets. Returns the path and its remover.
 */
export async function tempDir(prefix = 'sv'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(`/tmp/${prefix}-`);
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
