/**
 * Reading settings (settings.ts) from an environment, and the flags that
 * mirror them with the same parsers. A bad value is one ConfigError naming
 * the variable or the flag, raised where the value is read, before anything
 * starts with it.
 */
import type { z } from 'zod';
import { type LogLevel, type Setting, SETTINGS } from './settings.js';
import type { ValueType } from './values.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** A setting with a value it cannot take, or one that is missing. The message names the variable or flag. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type ValueOf<S> = S extends { type: ValueType<infer T> } ? T : never;
/** A setting's value: never undefined when it has a default. */
export type SettingValue<S> = S extends { default: string } ? ValueOf<S> : ValueOf<S> | undefined;

/** A value as it appears in an error: quoted, and cut short (a JSON document can be long). */
function shown(raw: string): string {
  return JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw);
}

function problem(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'invalid';
}

/**
 * The setting's value in `env`: parsed, its default when unset or empty,
 * undefined when it has none. A bad value throws
 * `NAME must be <what a good one is>, got "<value>"`.
 */
export function readSetting<S extends Setting>(env: Env, setting: S): SettingValue<S> {
  const raw = env[setting.env];
  const text = raw === undefined || raw === '' ? setting.default : raw;
  if (text === undefined) return undefined as SettingValue<S>;
  const parsed = setting.type.schema.safeParse(text);
  if (!parsed.success) throw new ConfigError(`${setting.env} must be ${problem(parsed.error)}, got ${shown(text)}`);
  return parsed.data as SettingValue<S>;
}

/** A flag's value, parsed as `type` parses a variable: a bad one throws `invalid --flag: value (<what a good one is>)`. */
export function parseFlag<T>(flag: string, type: ValueType<T>, raw: string): T {
  const parsed = type.schema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid ${flag}: ${raw} (${problem(parsed.error)})`);
  return parsed.data;
}

/** A flag that mirrors a setting (its `flag`), parsed as the setting's variable is. */
export function flagOf<S extends Setting & { flag: string }>(setting: S, raw: string): ValueOf<S> {
  return parseFlag(setting.flag, setting.type, raw) as ValueOf<S>;
}

/** The log level: `--log-level` when given, else POWERTOOLS_LOG_LEVEL, else LOG_LEVEL, else INFO (Powertools' order). */
export function logLevelOf(env: Env, flag?: string): LogLevel {
  if (flag !== undefined) return parseFlag('--log-level', SETTINGS.logLevel.type, flag);
  return readSetting(env, SETTINGS.powertoolsLogLevel) ?? readSetting(env, SETTINGS.logLevel);
}
