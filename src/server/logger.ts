/** The levels of `--log-level`, most severe first. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * One line per event on stderr: time, node, level, message. Plain text, because the three-node
 * quick start interleaves three nodes' logs in one terminal; stdout stays free for the lines
 * scripts read (endpoints, ready).
 */
export function createLogger(nodeId: number, level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const rank = (l: LogLevel): number => LOG_LEVELS.indexOf(l);
  const enabled = (l: LogLevel): boolean => level !== 'silent' && rank(l) <= rank(level);
  const emit = (l: LogLevel, message: string): void => {
    if (enabled(l)) write(`${new Date().toISOString()} node=${nodeId} ${l} ${message}\n`);
  };
  return {
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}
