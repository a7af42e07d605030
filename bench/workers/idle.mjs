// The scale benchmark's worker: says it is ready (a newline on NOTIFICATION_FD, s6's protocol) and then idles. It does
// not touch the sockets it is handed; its stop signal's default action ends it.
import { closeSync, writeSync } from 'node:fs';

const notify = Number(process.env.NOTIFICATION_FD);
if (notify) {
  writeSync(notify, '\n');
  closeSync(notify);
}
setInterval(() => {}, 2 ** 31 - 1);
