import http from 'node:http';

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** One GET over a unix socket or TCP, with a new connection each time (no keep-alive), so workers rotate. */
export function get(target: { socketPath: string } | { host: string; port: number }, path = '/', timeoutMs = 10_000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ ...target, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
