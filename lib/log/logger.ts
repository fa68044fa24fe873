/**
 * One logger for all of kumo: Powertools Logger's interface and JSON record
 * (`level`, `message`, `timestamp`, `service`, `sampling_rate`, then the
 * record's own keys) in the Lambda functions, in `kumo up` and in `kumo
 * agent` alike, so one query reads CloudWatch Logs and a local log file.
 *
 * lib/ logs through the `Logger` interface, injected (an option of every
 * class that logs), never through `console`. The functions pass their
 * Powertools Logger as it is; locally `jsonLogger` is that same Logger with
 * its output sent to a sink of the caller's choosing (stderr for the CLI, an
 * array in tests). docs/logging.md says where each mode's logs go.
 */
import { Logger as PowertoolsLogger, type LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import { type Env, logLevelOf, readSetting } from '../config/read.js';
import { type LogLevel, SETTINGS } from '../config/settings.js';

/** A record's own keys (the request's `auditID`, an `error`...). An Error value is written with its name, message and stack. */
export type LogAttributes = Record<string, unknown>;

/** The levels lib/ logs at, as Powertools' Logger has them (a record's keys may come in several objects). */
export interface Logger {
  debug(message: string, ...attributes: LogAttributes[]): void;
  info(message: string, ...attributes: LogAttributes[]): void;
  warn(message: string, ...attributes: LogAttributes[]): void;
  error(message: string, ...attributes: LogAttributes[]): void;
}

/** Drops every record (for tests and simulations that keep quiet). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Where a JSON logger's lines go, one record per call, without the newline. */
export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => void process.stderr.write(`${line}\n`);

/**
 * Powertools' Logger writing each record to a sink: Powertools prints INFO
 * and DEBUG on stdout, which locally is the CLI's output; this writes every
 * level to one stream. Everything else (levels, keys, the JSON shape, the
 * log level variables) is Powertools' own.
 */
class SinkLogger extends PowertoolsLogger {
  private readonly sink: LogSink;

  constructor(options: ConstructorOptions, sink: LogSink) {
    super(options);
    this.sink = sink;
  }

  protected override printLog(_level: number, log: LogItem): void {
    log.prepareForPrint();
    // Powertools' constructor may print (a warning about its options) before this class has set its sink.
    (this.sink ?? stderrSink)(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }

  protected override createLogger(options?: ConstructorOptions): PowertoolsLogger {
    return new SinkLogger(options ?? {}, this.sink);
  }
}

export interface JsonLoggerOptions {
  /** The record's `service`. */
  service: string;
  /** @default INFO */
  level?: LogLevel;
  /** @default standard error */
  sink?: LogSink;
}

/** A logger writing Powertools' JSON records to `sink`, one line each. */
export function jsonLogger(opts: JsonLoggerOptions): Logger {
  return new SinkLogger({ serviceName: opts.service, logLevel: opts.level ?? 'INFO' }, opts.sink ?? stderrSink);
}

/**
 * A Lambda function's Powertools Logger, as it is (its records on the
 * function's stdout and stderr, which Lambda sends to CloudWatch Logs), at
 * the environment's level, its `service` POWERTOOLS_SERVICE_NAME or else
 * `service`. The function adds each invocation's context (`addContext`), so
 * every record carries the Lambda request id (`function_request_id`).
 */
export function functionLogger(service: string, env: Env = process.env): PowertoolsLogger {
  return new PowertoolsLogger({ serviceName: readSetting(env, SETTINGS.serviceName) ?? service, logLevel: logLevelOf(env) });
}

let processLogger: Logger | undefined;

/**
 * The logger of classes that were given none: JSON on standard error at the
 * environment's level (LOG_LEVEL). Every entry point (the functions, `kumo
 * up`, `kumo agent`) injects its own; this is for library use and tests
 * that do not care.
 */
export function defaultLogger(): Logger {
  processLogger ??= jsonLogger({ service: 'kumo', level: logLevelOf(process.env) });
  return processLogger;
}
