import { expect } from 'vitest';
import { ConfigError } from '../../src/config/serve-config.js';

/** Asserts that `fn` throws a ConfigError whose message contains every fragment (the key or flag at fault first). */
export function expectConfigError(fn: () => unknown, ...fragments: string[]): string {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  const err = caught as ConfigError;
  expect(err.code).toBe('CONFIG_INVALID');
  for (const f of fragments) expect(err.message).toContain(f);
  return err.message;
}

/** The async twin of expectConfigError, for loadServeConfig. */
export async function expectConfigRejection(p: Promise<unknown>, ...fragments: string[]): Promise<string> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  const message = (err as ConfigError).message;
  for (const f of fragments) expect(message).toContain(f);
  return message;
}
