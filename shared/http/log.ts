// Structured JSON log lines. Callers pass facts, never request bodies or secrets.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export function log(level: LogLevel, message: string, facts: Record<string, unknown> = {}): void {
  if (process.env.LOG_LEVEL === 'silent') return;
  const line = JSON.stringify({ level, message, time: new Date().toISOString(), ...facts });
  if (level === 'error' || level === 'warn') console.error(line);
  else console.log(line);
}
