import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { systemHost, type ConfigHost } from '../../src/config/config-host.js';
import { FACTS } from './config-host.js';

/** The shared corpus of real-world uWSGI ini files (../shared beside the repository, as in CI). */
export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus/uwsgi-ini/', import.meta.url));

/** The deployment guides the project grew from. */
export const SEEDS_DIR = fileURLToPath(new URL('../../../shared/seeds/', import.meta.url));

export function corpusFiles(): string[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.ini'))
    .sort();
}

/**
 * The real file system with a fixed, empty environment and fixed machine facts: what a file reads like does not
 * depend on who runs the test (their $HOME, host name or CPU count).
 */
export function corpusHost(): ConfigHost {
  return { ...systemHost({}), facts: FACTS };
}
