/**
 * @module logger
 * Structured JSON logs (pino) for machines, a readable stream for a developer's terminal.
 * Components receive a `Logger` and never create their own.
 */
import { pino } from 'pino';
import type { LogFormat, LogLevel } from './config.js';

export type Logger = pino.Logger;

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Defaults to stdout; tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    base: { service: 'agent-registry' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Bearer tokens never reach a log line, wherever a logged object carries the header.
    redact: {
      paths: [
        'authorization',
        'headers.authorization',
        '*.authorization',
        '*.headers.authorization',
        '*.*.headers.authorization',
      ],
      censor: '[redacted]',
    },
  };
  if (options.destination !== undefined) return pino(base, options.destination);
  if (options.format === 'pretty') {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  return pino(base);
}

/** A logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
