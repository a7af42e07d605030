import strftime from 'strftime';
import type { VassalLogSettings } from '../config/log-settings.js';

/** Who printed a line. */
export interface LineOrigin {
  readonly vassal: string;
  readonly worker: number;
  readonly pid: number | undefined;
  readonly generation: number;
  readonly stream: 'stdout' | 'stderr';
}

/** How lines are written to a vassal's log file: decided once per configuration (lineStyle), applied per line. */
export interface LineStyle {
  readonly format: 'plain' | 'tagged' | 'json';
  /** strftime format of the time before " - "; undefined: no time in the text (json always has its `time`). */
  readonly date: string | undefined;
}

/** The time of a tagged line when log-date does not say: ISO 8601, local time with its offset, milliseconds. */
export const TAGGED_DATE = '%Y-%m-%dT%H:%M:%S.%L%:z';

/**
 * The style of a vassal's lines. `uwsgiApp`: the vassal runs uWSGI as an app server, which dates its own lines
 * (its own log-date): a tagged line gets no second date unless log-date asks for one here. Plain lines get a date
 * only when log-date is set (uWSGI's meaning); json lines always have their `time` field, which is data, not text.
 */
export function lineStyle(settings: Pick<VassalLogSettings, 'format' | 'date'>, uwsgiApp = false): LineStyle {
  const { format, date } = settings;
  if (format === 'json') return { format, date: undefined };
  if (date === false) return { format, date: undefined };
  if (date !== undefined) return { format, date: date.format };
  return { format, date: format === 'tagged' && !uwsgiApp ? TAGGED_DATE : undefined };
}

/** True when lines are written as printed: the bytes can go to the file untouched. */
export function isVerbatim(style: LineStyle): boolean {
  return style.format === 'plain' && style.date === undefined;
}

/** One line (without its newline) in `style`, with its newline. `now` in ms since the epoch. */
export function formatLine(line: string, origin: LineOrigin, style: LineStyle, now: number): string {
  if (style.format === 'json') {
    return `${JSON.stringify({
      time: new Date(now).toISOString(),
      vassal: origin.vassal,
      worker: origin.worker,
      pid: origin.pid ?? null,
      generation: origin.generation,
      stream: origin.stream,
      line,
    })}\n`;
  }
  const date = style.date === undefined ? '' : `${formatDate(style.date, now)} - `;
  if (style.format === 'plain') return `${date}${line}\n`;
  return `${date}${origin.vassal}[${origin.worker}] ${origin.stream}: ${line}\n`;
}

// strftime runs once per distinct second and format: a flood of lines costs one strftime per second, not per line.
let cached = { format: '', second: NaN, parts: [''] };

/** `format` (strftime, local time) for the time `now` (ms). */
export function formatDate(format: string, now: number): string {
  const second = Math.floor(now / 1000);
  if (cached.format !== format || cached.second !== second) {
    // %L (milliseconds) changes within the second: left as a gap, filled per call.
    cached = { format, second, parts: strftime(format.replaceAll('%L', '\u0000'), new Date(second * 1000)).split('\u0000') };
  }
  return cached.parts.length === 1 ? (cached.parts[0] ?? '') : cached.parts.join(String(now % 1000).padStart(3, '0'));
}
