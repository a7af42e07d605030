import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureTestUsers } from './test-users.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The end-to-end tests run the compiled CLI, so compile it once before any test. Workers that run as another user
 * must be able to read their script wherever the checkout lives (a home directory is often 0700), so the fixtures
 * are copied to a world-readable directory, named to the tests in SV_FIXTURES_DIR.
 */
export default function setup(): () => void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  ensureTestUsers();
  const fixtures = mkdtempSync('/tmp/sv-fixtures-');
  cpSync(fileURLToPath(new URL('../fixtures/', import.meta.url)), fixtures, { recursive: true });
  chmodSync(fixtures, 0o755);
  process.env.SV_FIXTURES_DIR = `${fixtures}/`;
  return () => rmSync(fixtures, { recursive: true, force: true });
}
