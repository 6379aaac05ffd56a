// Structured JSON log lines. Callers pass facts, never request bodies or secrets.
// On Lambda with JSON log format the runtime writes the record (timestamp, level, requestId) and filters by the
// function's application log level, so a line goes to the console method of its level as one object.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export function log(level: LogLevel, message: string, facts: Record<string, unknown> = {}): void {
  if (process.env.LOG_LEVEL === 'silent') return;
  if (process.env.AWS_LAMBDA_LOG_FORMAT === 'JSON') {
    console[level]({ message, ...facts });
    return;
  }
  const line = JSON.stringify({ level, message, time: new Date().toISOString(), ...facts });
  if (level === 'error' || level === 'warn') console.error(line);
  else console.log(line);
}
