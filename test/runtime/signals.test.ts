import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SIGNALS, GUARDED_SIGNALS, IGNORED_SIGNALS, commandFor, signalMeaning } from '../../src/runtime/signals.js';

describe('signals', () => {
  it('gives every signal Node knows a meaning', () => {
    const names = Object.keys(constants.signals) as NodeJS.Signals[];
    expect(names.filter((s) => signalMeaning(s) === undefined)).toEqual([]);
  });

  it('handles SIGUSR1 and SIGUSR2 (else SIGUSR1 starts the inspector, SIGUSR2 ends the process); leaves SIGPIPE and SIGXFSZ to Node', () => {
    expect(Object.keys(IGNORED_SIGNALS)).not.toEqual(expect.arrayContaining(['SIGUSR1']));
    expect(Object.keys(IGNORED_SIGNALS)).not.toEqual(expect.arrayContaining(['SIGUSR2']));
    // SIGUSR1 has a use (the status snapshot), and is guarded from the start like the ignored ones.
    expect(GUARDED_SIGNALS).toEqual(expect.arrayContaining(['SIGUSR1', 'SIGUSR2', ...Object.keys(IGNORED_SIGNALS)]));
    expect(Object.keys(IGNORED_SIGNALS)).not.toContain('SIGPIPE');
    expect(Object.keys(IGNORED_SIGNALS)).not.toContain('SIGXFSZ');
    expect(Object.keys(IGNORED_SIGNALS).filter((s) => s in DEFAULT_SIGNALS)).toEqual([]);
  });

  it('stops on SIGINT and SIGQUIT, reloads on SIGHUP, and on SIGTERM as die-on-term says; logs the status on SIGUSR1, reopens logs on SIGUSR2', () => {
    expect(commandFor('SIGQUIT', { dieOnTerm: false })).toEqual({ type: 'stop', signal: 'SIGQUIT' });
    expect(commandFor('SIGHUP', { dieOnTerm: true })).toEqual({ type: 'reload', signal: 'SIGHUP' });
    expect(commandFor('SIGTERM', { dieOnTerm: false })?.type).toBe('reload');
    expect(commandFor('SIGUSR1', { dieOnTerm: true })).toEqual({ type: 'status', signal: 'SIGUSR1' });
    expect(commandFor('SIGUSR2', { dieOnTerm: true })).toEqual({ type: 'reopen-logs', signal: 'SIGUSR2' });
  });
});
