import { readFile, stat } from 'node:fs/promises';
import { TomlError, parse } from 'smol-toml';
import { ConfigError } from './config-error.js';

/** A config file is a few kilobytes; anything this large is the wrong file, not a config. */
const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** Deeper nesting than any valid Keel config needs; bounds the parser's recursion on hostile input. */
const MAX_TOML_DEPTH = 16;

/**
 * Reads and parses a TOML config file. `origin` says how the path was given (`CONFIG_PATH` or
 * `--config`), because with two ways to name the file the user must learn which one won.
 * Returns the parsed document unchecked: validation is tomlLayer's job.
 */
export async function readTomlFile(path: string, origin: string): Promise<unknown> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ConfigError(`${origin}: config file ${JSON.stringify(path)} is not a regular file`);
    if (info.size > MAX_CONFIG_FILE_BYTES) throw new ConfigError(`${origin}: config file ${JSON.stringify(path)} is larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${origin}: cannot read config file ${JSON.stringify(path)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return parse(text, { maxDepth: MAX_TOML_DEPTH });
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // smol-toml's message is "Invalid TOML document: <what>" followed by a code excerpt; keep
    // both, led by the file:line:column that editors and terminals can jump to.
    const what = err.message.replace(/^Invalid TOML document: /, '').trimEnd();
    throw new ConfigError(`${path}:${err.line}:${err.column}: invalid TOML (file from ${origin}): ${what}`);
  }
}
