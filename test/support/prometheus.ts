import { execFileSync, spawnSync } from 'node:child_process';

/**
 * Prometheus' text format read by a real parser: text_string_to_metric_families of the official Python client
 * (Debian's python3-prometheus-client; .ci/run installs it). Undefined when it is not installed (tests skip, visibly).
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
families = []
for f in text_string_to_metric_families(sys.stdin.read()):
    families.append({"name": f.name, "type": f.type, "documentation": f.documentation,
                     "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]})
print(json.dumps(families))
`;

export interface ParsedFamily {
  readonly name: string;
  readonly type: string;
  readonly documentation: string;
  readonly samples: readonly { readonly name: string; readonly labels: Record<string, string>; readonly value: number }[];
}

const PARSER = spawnSync(PYTHON, ['-c', 'import prometheus_client.parser'], { stdio: 'ignore' }).status === 0;

/** In CI the parser is installed by .ci/run and these tests must run; elsewhere a missing parser skips them, visibly. */
export const PROMETHEUS_SKIP = !PARSER && process.env.CI !== 'true' ? ' [SKIPPED: no Prometheus parser; apt-get install python3-prometheus-client]' : '';
if (PROMETHEUS_SKIP) console.warn(`metrics tests${PROMETHEUS_SKIP}`);

/** Parses exposition text; throws with the parser's own error when the text is not valid. */
export function parseMetrics(text: string): ParsedFamily[] {
  return JSON.parse(execFileSync(PYTHON, ['-c', SCRIPT], { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] })) as ParsedFamily[];
}
