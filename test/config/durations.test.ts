import { describe, expect, it } from 'vitest';
import { readVassalText } from '../../src/config/config-reader.js';
import { formatDiagnostic } from '../../src/config/diagnostic.js';
import { buildEmperorConfig } from '../../src/config/emperor-config.js';
import { parseVassalText } from '../../src/config/load-vassal.js';
import { OPTIONS } from '../../src/config/options/index.js';
import { References } from '../../src/config/references.js';
import { MAX_TIMER_SECONDS, seconds } from '../../src/config/values.js';
import { fakeHost } from '../support/config-host.js';

const VASSAL = '/srv/vassals/app.ini';
const EMPEROR = '/etc/supervisor/emperor.ini';
/** setTimeout's largest delay; anything longer fires after 1 ms. */
const TIMER_MAX_MS = 2 ** 31 - 1;

const durationOptions = OPTIONS.filter((o) => o.type === seconds);

function errorsOf(spec: (typeof OPTIONS)[number], value: string): string[] {
  if (spec.scope === 'emperor') {
    const host = fakeHost();
    const read = readVassalText(['[uwsgi]', 'emperor = vassals', `${spec.name} = ${value}`].join('\n'), EMPEROR, host);
    const built = buildEmperorConfig(read.entries, { references: new References(read.entries, host), tested: read.tested, host });
    return built.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  }
  const result = parseVassalText(['[uwsgi]', 'command = sleep 1', `${spec.name} = ${value}`].join('\n'), VASSAL, { host: fakeHost() });
  return result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
}

describe('durations', () => {
  it('are every option that becomes a timer, emperor and vassal alike', () => {
    expect(durationOptions.map((o) => o.name).sort()).toEqual(
      ['emperor-freq', 'emperor-settle', 'healthy-after', 'max-worker-lifetime', 'ready-after', 'ready-timeout', 'restart-delay', 'restart-delay-max', 'worker-reload-mercy'].sort(),
    );
  });

  it('above what a timer can hold are an error at file:line with the limit', () => {
    expect(MAX_TIMER_SECONDS * 1000).toBeLessThanOrEqual(TIMER_MAX_MS);
    for (const spec of durationOptions) {
      const file = spec.scope === 'emperor' ? EMPEROR : VASSAL;
      for (const value of [String(MAX_TIMER_SECONDS + 1), '2147483.648', '99999999999', '9'.repeat(400)]) {
        expect(errorsOf(spec, value), `${spec.name} = ${value}`).toEqual([
          `${file}:3: error: invalid value for ${spec.name}: ${value} seconds is longer than a timer can wait: at most ${MAX_TIMER_SECONDS} seconds (about 24.8 days)`,
        ]);
      }
      expect(errorsOf(spec, String(MAX_TIMER_SECONDS)), spec.name).toEqual([]);
    }
  });

  it('at the bound still fit a timer once in milliseconds', () => {
    const longest = durationOptions.filter((o) => o.scope !== 'emperor').map((o) => `${o.name} = ${MAX_TIMER_SECONDS}`);
    const result = parseVassalText(['[uwsgi]', 'command = sleep 1', ...longest].join('\n'), VASSAL, { host: fakeHost() });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const c = result.config;
    const ms = [c.mercyMs, c.readyAfterMs, c.readyTimeoutMs, c.backoff.initialMs, c.backoff.maxMs, c.backoff.healthyAfterMs, c.maxLifetimeMs];
    expect(ms.every((v) => v === MAX_TIMER_SECONDS * 1000 && v <= TIMER_MAX_MS)).toBe(true);
  });
});
