import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemHost, type ConfigHost, type PathKind } from '../../src/config/config-host.js';
import { DEFAULT_UWSGI_APP_SETTINGS } from '../../src/config/uwsgi-app.js';
import { FACTS } from './config-host.js';

/**
 * The team's shared material (real-world uWSGI files, the deployment guides): not part of this repository, whose
 * licence does not cover them. Looked for in $SUPERVISOR_SHARED_DIR, beside the clone (../shared), and at
 * /work/shared, where this project's machines keep it.
 */
const SHARED = [process.env.SUPERVISOR_SHARED_DIR, fileURLToPath(new URL('../../../shared/', import.meta.url)), '/work/shared/']
  .filter((d): d is string => Boolean(d))
  .map((d) => path.resolve(d) + '/')
  .find((d) => existsSync(path.join(d, 'corpus/uwsgi-ini')) && existsSync(path.join(d, 'seeds')));

/** Why the corpus and seed tests cannot run here, or undefined when they can. Shown in their titles when skipped. */
export const SHARED_MISSING = SHARED ? undefined : ' [SKIPPED: the shared corpus is not here; set SUPERVISOR_SHARED_DIR]';
if (SHARED_MISSING) console.warn(`corpus tests${SHARED_MISSING}`);

/** The shared corpus of real-world uWSGI ini files. */
export const CORPUS_DIR = `${SHARED ?? '/nonexistent/shared/'}corpus/uwsgi-ini/`;

/** The deployment guides the project grew from. */
export const SEEDS_DIR = `${SHARED ?? '/nonexistent/shared/'}seeds/`;

/** The corpus files, sorted; none when the shared material is missing (the tests then skip). */
export function corpusFiles(): string[] {
  if (!SHARED) return [];
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.ini'))
    .sort();
}

/**
 * The real file system with a fixed, empty environment and fixed machine facts: what a file reads like does not
 * depend on who runs the test (their $HOME, host name or CPU count) or what is installed (uWSGI).
 */
export function corpusHost(): ConfigHost {
  const system = systemHost({});
  // Whether uWSGI is installed here does not change how a file reads: its default binary counts as present.
  const pathKind = (p: string): PathKind => (p === DEFAULT_UWSGI_APP_SETTINGS.binary ? 'file' : system.pathKind(p));
  return { ...system, pathKind, facts: FACTS };
}
