import { describe, expect, it } from 'vitest';
import { checkBackchannelUri, guardedLookup, isSpecialAddress, originAllowed } from '../../src/logout/ssrf.ts';

describe('special-use addresses', () => {
  it.each(['127.0.0.1', '10.0.0.5', '172.16.3.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.1.1.1', 'not-an-ip'])(
    '%s is special',
    (ip) => expect(isSpecialAddress(ip)).toBe(true),
  );
  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8'])('%s is public', (ip) => expect(isSpecialAddress(ip)).toBe(false));
});

describe('special-purpose ranges a hand list missed (audit item 13)', () => {
  // As they appear in a URL, and as the address a name resolves to.
  const literals = [
    ['[::127.0.0.1]', '::7f00:1'], // IPv4-compatible loopback
    ['[::ffff:0:7f00:1]', '::ffff:0:7f00:1'], // IPv4-translated (RFC 6145)
    ['[64:ff9b:1::a00:1]', '64:ff9b:1::a00:1'], // local-use NAT64 (RFC 8215)
    ['[2002:7f00:1::1]', '2002:7f00:1::1'], // 6to4 (RFC 3056)
    ['[fec0::1]', 'fec0::1'], // site-local (RFC 3879)
    ['[100::1]', '100::1'], // discard-only (RFC 6666)
    ['192.88.99.1', '192.88.99.1'], // 6to4 relay anycast (RFC 7526)
  ] as const;
  it.each(literals)('https://%s is refused as a back-channel URI', (host) => {
    expect(checkBackchannelUri(`https://${host}/bcl`, [])).toMatchObject({ ok: false, reason: /loopback or private/ });
  });
  it.each(literals)('%s is special when a name resolves to %s', (_host, resolved) => {
    expect(isSpecialAddress(resolved)).toBe(true);
  });
  it.each(['https://93.184.216.34/bcl', 'https://[2606:4700::1111]/bcl', 'https://rp.example/bcl'])('%s is allowed', (uri) => {
    expect(checkBackchannelUri(uri, [])).toMatchObject({ ok: true, allowListed: false });
  });
  it('still lets an allow-listed origin on a special address receive logout tokens', () => {
    const allowlist = ['http://127.0.0.1:8090', 'https://[fec0::1]:*'];
    expect(checkBackchannelUri('http://127.0.0.1:8090/bcl', allowlist)).toMatchObject({ ok: true, allowListed: true });
    expect(checkBackchannelUri('https://[fec0::1]:8443/bcl', allowlist)).toMatchObject({ ok: true, allowListed: true });
  });
});

describe('allow-listed origins', () => {
  const list = ['http://127.0.0.1:8090', 'http://localhost:*'];
  it('match scheme, host and port (or any port with *)', () => {
    expect(originAllowed(new URL('http://127.0.0.1:8090/x'), list)).toBe(true);
    expect(originAllowed(new URL('http://127.0.0.1:8091/x'), list)).toBe(false);
    expect(originAllowed(new URL('https://127.0.0.1:8090/x'), list)).toBe(false);
    expect(originAllowed(new URL('http://localhost:1234/x'), list)).toBe(true);
  });
});

describe('back-channel URI checks', () => {
  it('refuse credentials, fragments and non-http schemes', () => {
    expect(checkBackchannelUri('https://u:p@rp.example/bcl', [])).toMatchObject({ ok: false, reason: /credentials/ });
    expect(checkBackchannelUri('https://rp.example/bcl#x', [])).toMatchObject({ ok: false, reason: /fragment/ });
    expect(checkBackchannelUri('ftp://rp.example/bcl', [])).toMatchObject({ ok: false });
    expect(checkBackchannelUri('not a url', [])).toMatchObject({ ok: false });
  });
  it('accept public https', () => {
    expect(checkBackchannelUri('https://rp.example/bcl', [])).toMatchObject({ ok: true, allowListed: false });
  });
});

describe('the delivery lookup', () => {
  it('refuses a name that resolves to loopback', async () => {
    const result = await new Promise<{ err: NodeJS.ErrnoException | null }>((resolve) => guardedLookup('localhost', {}, (err) => resolve({ err })));
    expect(result.err?.code).toBe('ESPECIALADDRESS');
  });
});
