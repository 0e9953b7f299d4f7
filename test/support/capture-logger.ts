import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps every line, to assert on what the library logs. */
export class CaptureLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log = (message: unknown) => this.push('log', message);
  error = (message: unknown, ...rest: unknown[]) => this.push('error', [message, ...rest].join(' '));
  warn = (message: unknown) => this.push('warn', message);
  debug = (message: unknown) => this.push('debug', message);
  verbose = (message: unknown) => this.push('verbose', message);
  private push(level: string, message: unknown) {
    this.lines.push({ level, message: String(message) });
  }
  text(): string {
    return this.lines.map((l) => `${l.level}: ${l.message}`).join('\n');
  }
}
