import { vassalIni, type EmperorProcess, type LogRecord } from './emperor.js';

/** A vassal as cheap as a vassal gets: one `sleep` per worker (no Node start), ready at once. */
export function sleeperIni(extra: Record<string, string | number> = {}): string {
  return vassalIni({ command: 'sleep 3600', 'ready-after': 0, ...extra });
}

/** What the emperor did to one vassal (by name), counted from its log. */
export function actions(emperor: EmperorProcess, vassal: string): { start: number; reload: number; scale: number; stop: number } {
  return {
    start: emperor.events('vassal.start', vassal).length,
    reload: emperor.events('vassal.reload', vassal).length,
    scale: emperor.events('vassal.scale', vassal).length,
    stop: emperor.events('vassal.stop', vassal).length,
  };
}

/** The emperor.sync records: what each reconcile planned (absolute paths in start/reload/stop). */
export function syncs(emperor: EmperorProcess): (LogRecord & { trigger: string; start: string[]; reload: string[]; stop: string[] })[] {
  return emperor.events('emperor.sync') as never;
}

/** Every path any reconcile planned to act on, with the action. */
export function plannedFor(emperor: EmperorProcess, file: string): string[] {
  return syncs(emperor).flatMap((s) => [
    ...(s.start.includes(file) ? ['start'] : []),
    ...(s.reload.includes(file) ? ['reload'] : []),
    ...(s.stop.includes(file) ? ['stop'] : []),
  ]);
}
