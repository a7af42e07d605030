import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SIGNALS, IGNORED_SIGNALS, commandFor, signalMeaning } from '../../src/runtime/signals.js';

describe('signals', () => {
  it('gives every signal Node knows a meaning', () => {
    const names = Object.keys(constants.signals) as NodeJS.Signals[];
    expect(names.filter((s) => signalMeaning(s) === undefined)).toEqual([]);
  });

  it('handles SIGUSR1 (else it starts the inspector) and gives SIGUSR2 a meaning (reopen logs); leaves SIGPIPE and SIGXFSZ to Node', () => {
    expect(Object.keys(IGNORED_SIGNALS)).toEqual(expect.arrayContaining(['SIGUSR1']));
    expect(commandFor('SIGUSR2', { dieOnTerm: true })).toEqual({ type: 'reopen-logs', signal: 'SIGUSR2' });
    expect(Object.keys(IGNORED_SIGNALS)).not.toContain('SIGPIPE');
    expect(Object.keys(IGNORED_SIGNALS)).not.toContain('SIGXFSZ');
    expect(Object.keys(IGNORED_SIGNALS).filter((s) => s in DEFAULT_SIGNALS)).toEqual([]);
  });

  it('stops on SIGINT and SIGQUIT, reloads on SIGHUP, and on SIGTERM as die-on-term says', () => {
    expect(commandFor('SIGQUIT', { dieOnTerm: false })).toEqual({ type: 'stop', signal: 'SIGQUIT' });
    expect(commandFor('SIGHUP', { dieOnTerm: true })).toEqual({ type: 'reload', signal: 'SIGHUP' });
    expect(commandFor('SIGTERM', { dieOnTerm: false })?.type).toBe('reload');
    expect(commandFor('SIGUSR1', { dieOnTerm: true })).toBeUndefined();
  });
});
