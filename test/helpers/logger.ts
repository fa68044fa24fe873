/**
 * A logger whose records a test reads: the real JSON logger (lib/log), its
 * lines parsed back, so a test sees what an operator's log would hold.
 */
import { jsonLogger, type Logger } from '#lib/log/logger';

export interface LogRecord {
  level: string;
  message: string;
  timestamp: string;
  service: string;
  [key: string]: unknown;
}

export function captureLogger(level: 'DEBUG' | 'INFO' = 'DEBUG'): { logger: Logger; records: LogRecord[]; messages: () => string[] } {
  const records: LogRecord[] = [];
  const logger = jsonLogger({ service: 'test', level, sink: (line) => records.push(JSON.parse(line) as LogRecord) });
  return { logger, records, messages: () => records.map((r) => r.message) };
}
