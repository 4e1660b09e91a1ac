import { isIPv6 } from 'node:net';
import { ConfigError } from './config-error.js';
import { RANGES, inRange } from './integers.js';
import type { HostPort } from './types.js';

/** `:PORT` means this host only: binding every interface should be asked for explicitly (0.0.0.0:PORT). */
const DEFAULT_HOST = '127.0.0.1';

/** Host names and IPv4 literals; anything else (spaces, slashes, a scheme) is a typo, not a host. */
const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/**
 * Parses "host:port", ":port" or "[ipv6]:port". Returns the address, or the reason it is not
 * one as a phrase to follow the quoted input ("has no port"), so each caller can name the flag,
 * key or list item at fault.
 */
export function tryParseHostPort(s: string): HostPort | string {
  const colon = s.lastIndexOf(':');
  if (colon < 0) return 'has no port (expected HOST:PORT)';
  const hostPart = s.slice(0, colon);
  const portPart = s.slice(colon + 1);
  let host: string;
  if (hostPart.startsWith('[')) {
    if (!hostPart.endsWith(']') || !isIPv6(hostPart.slice(1, -1))) return 'has a bad IPv6 host (expected [ADDRESS]:PORT)';
    host = hostPart.slice(1, -1);
  } else if (hostPart === '') {
    host = DEFAULT_HOST;
  } else if (isIPv6(hostPart) || isIPv6(s)) {
    // Without brackets, "::1:80" could be several different address/port splits.
    return 'needs brackets around an IPv6 host, as in [::1]:PORT';
  } else if (!HOST_NAME.test(hostPart)) {
    return 'has a bad host (expected a host name or IP address)';
  } else {
    host = hostPart;
  }
  const port = /^[0-9]{1,5}$/.test(portPart) ? Number(portPart) : Number.NaN;
  if (portPart === '') return 'has no port (expected HOST:PORT)';
  if (!inRange(port, RANGES.port)) return `has a bad port (expected an integer from ${RANGES.port.min} to ${RANGES.port.max})`;
  return { host, port };
}

/** Like tryParseHostPort, throwing a ConfigError that names `what` (a flag or a key). */
export function parseHostPort(s: string, what: string): HostPort {
  const r = tryParseHostPort(s);
  if (typeof r === 'string') throw new ConfigError(`${what}: ${JSON.stringify(s)} ${r}`);
  return r;
}

/** The inverse of parseHostPort: brackets IPv6 hosts so the result parses back to the same address. */
export function formatHostPort(a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export function sameHostPort(a: HostPort, b: HostPort): boolean {
  return a.host === b.host && a.port === b.port;
}
