import { describe, expect, it } from 'vitest';
import { EMPEROR_STATS, METRICS_HTTP } from '../../src/config/options/index.js';

const parse = (type: typeof METRICS_HTTP.type, raw: string) => type.parse(raw, { baseDir: '/etc/supervisor' });

describe('status addresses', () => {
  it('metrics-http: host:port only, and every interface must be written out', () => {
    expect(parse(METRICS_HTTP.type, '127.0.0.1:9101')).toEqual({ ok: true, value: { kind: 'tcp', host: '127.0.0.1', port: 9101 } });
    expect(parse(METRICS_HTTP.type, '0.0.0.0:9101')).toEqual({ ok: true, value: { kind: 'tcp', host: '0.0.0.0', port: 9101 } });
    expect(parse(METRICS_HTTP.type, ':9101')).toEqual({ ok: false, reason: expect.stringContaining('would listen on every interface') });
    expect(parse(METRICS_HTTP.type, '*:9101')).toMatchObject({ ok: false });
    expect(parse(METRICS_HTTP.type, 'metrics.sock')).toEqual({ ok: false, reason: 'expected host:port such as 127.0.0.1:9101, got "metrics.sock"' });
  });

  it("emperor-stats: uWSGI's meanings, :PORT for every interface (as real emperor files use it) and a unix path", () => {
    expect(parse(EMPEROR_STATS.type, ':8001')).toEqual({ ok: true, value: { kind: 'tcp', host: '0.0.0.0', port: 8001 } });
    expect(parse(EMPEROR_STATS.type, 'stats.sock')).toEqual({ ok: true, value: { kind: 'unix', path: '/etc/supervisor/stats.sock' } });
    expect(EMPEROR_STATS.aliases).toContain('emperor-stats-server');
  });
});
