/** What a signal asks the emperor to do. Handlers only enqueue; the emperor's loop acts (circus, s6). */
export type SignalCommand = { readonly type: 'stop'; readonly signal: NodeJS.Signals } | { readonly type: 'reload'; readonly signal: NodeJS.Signals };

export interface SignalPolicy {
  /** uWSGI 2.1 semantics: SIGTERM stops (true, the default); false restores 2.0's "SIGTERM reloads". */
  readonly dieOnTerm: boolean;
}

/** The meaning of each handled signal. SIGINT and SIGQUIT always stop; SIGHUP always reloads. */
export function commandFor(signal: NodeJS.Signals, policy: SignalPolicy): SignalCommand | undefined {
  switch (signal) {
    case 'SIGINT':
    case 'SIGQUIT':
      return { type: 'stop', signal };
    case 'SIGTERM':
      return policy.dieOnTerm ? { type: 'stop', signal } : { type: 'reload', signal };
    case 'SIGHUP':
      return { type: 'reload', signal };
    default:
      return undefined;
  }
}

const HANDLED: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'];

/** Routes the handled signals to `onCommand`; returns the function that removes the handlers. */
export function routeSignals(policy: SignalPolicy, onCommand: (command: SignalCommand) => void): () => void {
  const handlers = HANDLED.map((signal) => {
    const handler = (): void => {
      const command = commandFor(signal, policy);
      if (command) onCommand(command);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
