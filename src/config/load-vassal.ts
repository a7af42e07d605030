import { readFile } from 'node:fs/promises';
import type { Diagnostic } from './diagnostic.js';
import { DEFAULT_SECTIONS, splitIniLines } from './ini-lines.js';
import { buildVassalConfig, type VassalConfigResult } from './vassal-config.js';

/**
 * Reads a vassal file's text into a VassalConfig. `text` is passed in (the emperor has already read the file to hash
 * it); nothing else is read. Never throws on bad input: every problem is a diagnostic with file:line.
 */
export function parseVassalText(text: string, file: string): VassalConfigResult {
  const lines = splitIniLines(text, file);
  const diagnostics: Diagnostic[] = [...lines.diagnostics];
  if (!lines.foundSection) {
    const others = lines.sections.length ? `; it has ${lines.sections.map((s) => `[${s}]`).join(', ')}` : '';
    diagnostics.push({
      severity: 'error',
      file,
      message: `no ${DEFAULT_SECTIONS.map((s) => `[${s}]`).join(' or ')} section${others}`,
    });
    return { ok: false, diagnostics };
  }
  const built = buildVassalConfig(lines.entries, file);
  const all = [...diagnostics, ...built.diagnostics];
  if (!built.ok || all.some((d) => d.severity === 'error')) return { ok: false, diagnostics: all };
  return { ok: true, config: built.config, diagnostics: all };
}

/** Reads and parses one vassal file; an unreadable file is an error diagnostic, not an exception. */
export async function loadVassalFile(file: string): Promise<VassalConfigResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, diagnostics: [{ severity: 'error', file, message: `cannot read: ${(err as Error).message}` }] };
  }
  return parseVassalText(text, file);
}
