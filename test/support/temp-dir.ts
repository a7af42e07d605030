import { mkdtemp, rm } from 'node:fs/promises';

/**
 * A fresh directory per test under /tmp, with a short path: unix socket paths are limited to 107 bytes, and tests
 * run in parallel, so every test gets its own sockets. Returns the path and its remover.
 */
export async function tempDir(prefix = 'sv'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(`/tmp/${prefix}-`);
  // Retries: a process the test's emperor started may still be finishing a file in it (a tenant's log helper ends its
  // job after the emperor is killed), and rmdir then finds the directory not empty.
  return { path, remove: () => rm(path, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }) };
}
