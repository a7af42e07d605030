// A small HTTP load generator for tests and benchmarks: `connections` clients, each sending GET requests one after
// the other on a fresh connection (no keep-alive, so every request goes through nginx to the upstream socket
// anew), until stopped. Counts every request: a 200 is ok; any other status, a reset, a refused or timed-out
// connection is a failure, kept with its reason. `socketPath`: a unix socket instead of host and port.
// `pauseAfterFailureMs`: how long a client waits after a failure before its next request (a refused connection fails
// at once: without a pause the clients would spin on the CPU the server needs to come back).
import http from 'node:http';

export function loadLoop({ host = '127.0.0.1', port, socketPath, path = '/', connections = 8, timeoutMs = 30_000, pauseAfterFailureMs = 0 }) {
  let stopped = false;
  const result = { ok: 0, failed: 0, failures: [], statuses: {}, firstFailureAt: undefined, lastFailureAt: undefined };
  const once = () =>
    new Promise((resolve) => {
      const target = socketPath ? { socketPath } : { host, port };
      const req = http.get({ ...target, path, agent: false, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => {
          result.statuses[res.statusCode] = (result.statuses[res.statusCode] ?? 0) + 1;
          if (res.statusCode === 200) result.ok++;
          else fail(`status ${res.statusCode}`);
          resolve(res.statusCode === 200);
        });
        res.on('error', (err) => {
          fail(err.code ?? err.message);
          resolve(false);
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => {
        fail(err.code ?? err.message);
        resolve(false);
      });
    });
  const fail = (reason) => {
    result.failed++;
    result.firstFailureAt ??= Date.now();
    result.lastFailureAt = Date.now();
    if (result.failures.length < 20) result.failures.push(`${new Date().toISOString()} ${reason}`);
  };
  const clients = Array.from({ length: connections }, async () => {
    while (!stopped) {
      const ok = await once();
      if (!ok && pauseAfterFailureMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseAfterFailureMs));
    }
  });
  return {
    /** Counts so far (the object keeps growing until stop). */
    result,
    /** Stops sending; resolves with the counts once every request in flight has ended. */
    async stop() {
      stopped = true;
      await Promise.all(clients);
      return result;
    },
  };
}
