import { inspectConfigFile } from '../config/config-file.js';
import type { ConfigHost } from '../config/config-host.js';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostic.js';
import { NO_DEFAULTS, type VassalDefaults } from '../config/load-vassal.js';
import { renderConfig } from '../config/show-config.js';

/** Where the output of an inspection goes: the report, and the diagnostics that accompany --show-config. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

function count(diagnostics: readonly Diagnostic[], severity: Diagnostic['severity']): number {
  return diagnostics.filter((d) => d.severity === severity).length;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * `supervisor --check FILE...`: reads every file as the emperor would and prints every finding as
 * `file:line: severity: message`, then one summary line per file. Returns the exit status: 1 if any file has an
 * error, else 0.
 */
export function checkFiles(files: readonly string[], host: ConfigHost, output: Output, defaults: VassalDefaults = NO_DEFAULTS): number {
  let failed = false;
  for (const file of files) {
    const inspected = inspectConfigFile(file, host, defaults);
    for (const d of inspected.diagnostics) output.out(`${formatDiagnostic(d)}\n`);
    const errors = count(inspected.diagnostics, 'error');
    const findings = [plural(errors, 'error'), plural(count(inspected.diagnostics, 'warning'), 'warning'), plural(count(inspected.diagnostics, 'note'), 'note')];
    const kind = inspected.kind === 'emperor' ? 'an emperor' : inspected.uwsgiApp ? 'a vassal run by uWSGI' : 'a vassal';
    output.out(`${file}: ${errors > 0 ? 'not usable' : 'ok'} as ${kind} (${findings.join(', ')})\n`);
    failed ||= errors > 0;
  }
  return failed ? 1 : 0;
}

/**
 * `supervisor --show-config FILE`: the fully expanded option list on stdout, the findings on stderr. Returns 1 if
 * the file has an error (the list is printed all the same: it shows what was read), else 0.
 */
export function showConfig(file: string, host: ConfigHost, output: Output, defaults: VassalDefaults = NO_DEFAULTS): number {
  const inspected = inspectConfigFile(file, host, defaults);
  for (const d of inspected.diagnostics) output.err(`${formatDiagnostic(d)}\n`);
  const title = `supervisor --show-config ${file} (read as ${inspected.kind === 'emperor' ? 'an emperor' : 'a vassal'})`;
  output.out(renderConfig(inspected.entries, inspected.references, title, inspected.tested));
  return count(inspected.diagnostics, 'error') > 0 ? 1 : 0;
}
