import type { OptionSpec } from './option-spec.js';
import { VASSAL_OPTIONS } from './vassal-options.js';
import { SOCKET_OPTIONS } from './socket-options.js';
import { EMPEROR_OPTIONS } from './emperor-options.js';
import { CONTROL_OPTIONS } from './control-options.js';
import { WATCH_OPTIONS } from './watch-options.js';
import { LANGUAGE_OPTIONS } from './language-options.js';
import { UWSGI_APP_OPTIONS } from './uwsgi-app-options.js';
import { LOG_OPTIONS } from './log-options.js';

export type { OptionSpec, OptionScope } from './option-spec.js';
export { defaultValue } from './option-spec.js';
export * from './vassal-options.js';
export * from './socket-options.js';
export * from './emperor-options.js';
export * from './control-options.js';
export * from './watch-options.js';
export * from './language-options.js';
export * from './uwsgi-app-options.js';
export * from './log-options.js';
export { UWSGI_OPTION_NAMES } from './uwsgi-names.js';
export { findNotApplicable, NOT_APPLICABLE, type NotApplicableGroup, type NotApplicableMatch } from './not-applicable.js';

/** Every option, in the order --help and docs/options.md list them. */
export const OPTIONS: readonly OptionSpec[] = [...EMPEROR_OPTIONS, ...CONTROL_OPTIONS, ...UWSGI_APP_OPTIONS, ...WATCH_OPTIONS, ...VASSAL_OPTIONS, ...SOCKET_OPTIONS, ...LOG_OPTIONS, ...LANGUAGE_OPTIONS];

const byName = new Map<string, OptionSpec>();
for (const spec of OPTIONS) {
  for (const name of [spec.name, ...(spec.aliases ?? [])]) {
    if (byName.has(name)) throw new Error(`option table: ${name} is defined twice`);
    byName.set(name, spec);
  }
}

/** The option a key or alias names, or undefined. */
export function findOption(key: string): OptionSpec | undefined {
  return byName.get(key);
}

/** Every accepted spelling, for "did you mean" suggestions. */
export function optionNames(): readonly string[] {
  return [...byName.keys()];
}
