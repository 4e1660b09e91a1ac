import { describe, expect, it } from 'vitest';
import { parseHostPort, parseInitialCluster } from '../../src/config/serve-config.js';
import { expectConfigError } from './expect-config-error.js';

describe('parseHostPort', () => {
  it('accepts host:port, :port and [ipv6]:port', () => {
    expect(parseHostPort('10.0.0.5:9081', '--x')).toEqual({ host: '10.0.0.5', port: 9081 });
    expect(parseHostPort('node-1.example.com:80', '--x')).toEqual({ host: 'node-1.example.com', port: 80 });
    expect(parseHostPort(':8080', '--x')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseHostPort('[::1]:21001', '--x')).toEqual({ host: '::1', port: 21001 });
    expect(parseHostPort('localhost:0', '--x')).toEqual({ host: 'localhost', port: 0 });
    expect(parseHostPort('0.0.0.0:65535', '--x')).toEqual({ host: '0.0.0.0', port: 65535 });
  });

  it.each([
    ['127.0.0.1', 'has no port'],
    ['127.0.0.1:', 'has no port'],
    ['127.0.0.1:65536', 'bad port'],
    ['127.0.0.1:-1', 'bad port'],
    ['127.0.0.1:80x', 'bad port'],
    ['127.0.0.1:8.5', 'bad port'],
    ['::1:80', 'brackets'],
    ['[nothost]:80', 'IPv6'],
    ['http://a:80', 'bad host'],
    ['a b:80', 'bad host'],
  ])('rejects %s naming the flag and the input', (input, problem) => {
    expectConfigError(() => parseHostPort(input, '--join'), '--join: ', JSON.stringify(input), problem);
  });
});

describe('parseInitialCluster', () => {
  it('reads id=host:port items, all voters', () => {
    expect(parseInitialCluster('1=127.0.0.1:21001, 2=127.0.0.1:21002,3=[::1]:21003')).toEqual([
      { id: 1, address: { host: '127.0.0.1', port: 21001 }, role: 'voter' },
      { id: 2, address: { host: '127.0.0.1', port: 21002 }, role: 'voter' },
      { id: 3, address: { host: '::1', port: 21003 }, role: 'voter' },
    ]);
  });

  it('quotes the offending item', () => {
    const message = expectConfigError(() => parseInitialCluster('1=127.0.0.1:21001,2=127.0.0.1'));
    expect(message).toBe('--initial-cluster: "2=127.0.0.1" has no port (expected HOST:PORT)');
  });

  it.each([
    ['', 'is not ID=HOST:PORT'],
    ['1=a:1,', 'is not ID=HOST:PORT'],
    ['a:1', 'is not ID=HOST:PORT'],
    ['0=a:1', 'bad id'],
    ['x=a:1', 'bad id'],
    ['1.5=a:1', 'bad id'],
    ['1=a:1,1=b:2', 'node 1 is listed twice'],
    ['1=a:1,2=a:1', 'address a:1 is listed twice'],
  ])('rejects %j', (input, problem) => {
    expectConfigError(() => parseInitialCluster(input), '--initial-cluster: ', problem);
  });
});
