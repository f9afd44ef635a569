import type { LoggerService } from '@nestjs/common';

type Level = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Structured JSON logs, one object per line on stdout: a fixed message phrase and its data as fields.
 * Nest's own framework messages arrive through the LoggerService methods and get the same shape.
 */
export class JsonLogger implements LoggerService {
  private static threshold: number = LEVEL_RANK.info;

  constructor(private readonly context = 'app') {}

  static setLevel(level: Level): void {
    JsonLogger.threshold = LEVEL_RANK[level];
  }

  static for(context: string): JsonLogger {
    return new JsonLogger(context);
  }

  info(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('info', msg, fields);
  }

  warning(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('warn', msg, fields);
  }

  failure(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('error', msg, fields);
  }

  trace(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('debug', msg, fields);
  }

  // LoggerService methods, as Nest calls them: (message, ...optionalParams with the context last).
  log(message: unknown, ...params: unknown[]): void {
    this.write('info', String(message), this.nestFields(params));
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', String(message), this.nestFields(params));
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', String(message), this.nestFields(params));
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', String(message), this.nestFields(params));
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('debug', String(message), this.nestFields(params));
  }

  private nestFields(params: unknown[]): Record<string, unknown> {
    const fields: Record<string, unknown> = {};
    const last = params.at(-1);
    if (typeof last === 'string') fields.context = last;
    if (params.length > 1 && typeof params[0] === 'string') fields.stack = params[0];

    return fields;
  }

  private write(level: Level, msg: string, fields: Record<string, unknown>): void {
    if (LEVEL_RANK[level] < JsonLogger.threshold) return;

    const line = { time: new Date().toISOString(), level, context: this.context, msg, ...fields };
    process.stdout.write(`${JSON.stringify(line, errorReplacer)}\n`);
  }
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (typeof value === 'bigint') return value.toString();

  return value;
}
