/**
 * uWSGI's placeholder arithmetic (docs "Configuration: Placeholders math", core/config.c uwsgi_manage_placeholder):
 * `%(a + b * 2)` is a pipeline evaluated left to right, not with precedence: ((a + b) * 2). Items are numbers or
 * option names; two items with no operator between them are concatenated as text; `++`/`--` add or subtract one.
 * Numbers are read like C's strtoll (leading digits, else 0); a division by zero gives 0. Results are 64-bit.
 */
export function isExpression(body: string): boolean {
  return body.includes(' ');
}

type Operator = '+' | '-' | '*' | '/';

export interface ExpressionResult {
  /** Undefined when the expression has no item at all (uWSGI leaves such a placeholder unexpanded). */
  readonly value: string | undefined;
  /** Names that had no value. */
  readonly missing: readonly string[];
}

function strtoll(text: string): bigint {
  const m = /^\s*([+-]?\d+)/.exec(text);
  return m ? BigInt(m[1]!) : 0n;
}

const int64 = (n: bigint): bigint => BigInt.asIntN(64, n);

/** Evaluates an expression; `lookup` gives an option's value, or undefined when there is none. */
export function evaluateExpression(body: string, lookup: (name: string) => string | undefined): ExpressionResult {
  let current: string | undefined;
  let pending: Operator | undefined;
  const missing: string[] = [];
  for (const token of body.split(' ').filter((t) => t !== '')) {
    if (token === '+' || token === '-' || token === '*' || token === '/') {
      pending = token;
      continue;
    }
    if (token === '++' || token === '--') {
      if (current !== undefined) current = String(int64(strtoll(current) + (token === '++' ? 1n : -1n)));
      pending = undefined;
      continue;
    }
    let item: string;
    if (/^\d+$/.test(token)) item = token;
    else {
      const value = lookup(token);
      if (value === undefined) missing.push(token);
      item = value ?? '';
    }
    if (pending === undefined) current = (current ?? '') + item;
    else {
      const a = strtoll(current ?? '');
      const b = strtoll(item);
      const result = pending === '+' ? a + b : pending === '-' ? a - b : pending === '*' ? a * b : b === 0n ? 0n : a / b;
      current = String(int64(result));
    }
    pending = undefined;
  }
  return { value: current, missing };
}
