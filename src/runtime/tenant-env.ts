/**
 * The environment a tenant's workers start from in tyrant mode, instead of the emperor's own: the emperor's
 * environment belongs to root (it may hold credentials, or say how root's tools behave) and is none of a tenant's
 * business. Like systemd's service environment for `User=`: a fixed PATH, and the account's USER, LOGNAME, HOME
 * and SHELL. The operator adds variables with the emperor's `tyrant-pass-env = NAME` (systemd's PassEnvironment=);
 * the vassal's own `env` lines come on top, after privileges are dropped.
 */
export const TENANT_PATH = '/usr/local/bin:/usr/bin:/bin';

export interface TenantAccount {
  readonly name: string;
  readonly home: string;
  readonly shell: string;
}

/**
 * `account`: the passwd entry of the tenant, or undefined for a numeric uid without one (then only PATH, and HOME=/).
 * `passed`: the emperor's variables named by tyrant-pass-env (unset ones are left out). Pure.
 */
export function tenantEnvironment(account: TenantAccount | undefined, passed: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: TENANT_PATH, ...passed };
  if (account) {
    env.USER = account.name;
    env.LOGNAME = account.name;
    env.HOME = account.home;
    if (account.shell) env.SHELL = account.shell;
  } else {
    env.HOME = '/';
  }
  return env;
}

/** The emperor's values of the variables `names` (tyrant-pass-env); names it does not have are skipped. */
export function passedVariables(names: readonly string[], from: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = from[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
