// Flag values as commander hands them over (strings), turned into numbers and names here, once.
// Every refusal is a UsageError that names the flag and says why: program.ts turns it into one line
// on stderr (or an error event with --json) and exit code 2, before any data is read or trained on.
import { Option } from 'commander';
import { InvalidOptionError } from '../errors.js';

/** Ends the command: its message as one line (or an error event with --json) and this exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The command ran and its output already says it failed (a gradient check over threshold): exit 1, nothing more printed. */
export class FailedVerdict extends CliError {}

/** A flag value or combination that cannot be right: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** Parses one flag's text; throws UsageError naming the flag. */
export type Parse<T> = (text: string) => T;

/** An option whose text is parsed (and refused) by `parse`; `fallback` is only shown in --help. */
export function option<T>(flags: string, description: string, parse: Parse<T>, fallback?: string | number): Option {
  const shown = fallback === undefined ? description : `${description} (default: ${fallback})`;
  return new Option(flags, shown).argParser((text: string) => parse(text));
}

export function integer(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): Parse<number> {
  return (text) => {
    const value = Number(text);
    if (!(text.trim() !== '' && Number.isInteger(value) && value >= min && value <= max)) {
      const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
      throw new UsageError(`${flag} must be ${range}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
}

/** A finite number > 0 (or ≥ 0 with allowZero). */
export function positive(flag: string, allowZero = false): Parse<number> {
  return (text) => {
    const value = Number(text);
    if (!(text.trim() !== '' && Number.isFinite(value) && (allowZero ? value >= 0 : value > 0)))
      throw new UsageError(`${flag} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(text)}`);
    return value;
  };
}

/** A number in the open interval (lo, hi), or [lo, hi) with closedLow. */
export function between(flag: string, lo: number, hi: number, closedLow = false): Parse<number> {
  return (text) => {
    const value = Number(text);
    const aboveLow = closedLow ? value >= lo : value > lo;
    if (!(text.trim() !== '' && Number.isFinite(value) && aboveLow && value < hi))
      throw new UsageError(`${flag} must be in ${closedLow ? '[' : '('}${lo}, ${hi}), got ${JSON.stringify(text)}`);
    return value;
  };
}

export function choice<T extends string>(flag: string, allowed: readonly T[]): Parse<T> {
  return (text) => {
    if (!allowed.includes(text as T)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`);
    return text as T;
  };
}

/** Wraps a library parser (parseInit, parseSchedule) so that its InvalidOptionError names the flag. */
export function library<T>(flag: string, parse: (text: string) => T): Parse<T> {
  return (text) => asUsage(flag, () => parse(text));
}

/**
 * Runs a library validator; its InvalidOptionError becomes a UsageError naming the flag: `flag`
 * itself, or per option name (for checks of several options at once) the flag that sets it.
 */
export function asUsage<T>(flag: string | Record<string, string>, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (!(err instanceof InvalidOptionError)) throw err;
    const name = typeof flag === 'string' ? flag : flag[err.option];
    throw new UsageError(name ? `${name}: ${err.message}` : err.message);
  }
}
