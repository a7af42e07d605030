// Preloaded into the emperor by bench/profile.mjs (node --import): V8's sampling profiler (--cpu-prof, the
// inspector's Profiler) samples the main thread with SIGPROF, and a process.on('SIGPROF') listener replaces its
// handler, so the profile stops a few milliseconds after the emperor's guardSignals() (src/runtime/signals.ts lists
// SIGPROF among the ignored signals). For a profiling run only, SIGPROF listeners are not installed.
for (const method of ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener']) {
  const original = process[method];
  process[method] = function (event, ...rest) {
    return event === 'SIGPROF' ? this : original.call(this, event, ...rest);
  };
}
