import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses no logout token goes to unless its origin is allow-listed: loopback, private,
 * link-local, carrier-grade NAT, unique-local, unspecified, multicast and documentation ranges.
 */
const SPECIAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) SPECIAL.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['64:ff9b::', 96]] as const) {
  SPECIAL.addSubnet(net, prefix, 'ipv6');
}

export function isSpecialAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (mapped) return SPECIAL.check(mapped, 'ipv4');
  const family = isIP(ip);
  if (!family) return true;
  return SPECIAL.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** `http://127.0.0.1:8090` or `http://localhost:*` (any port). */
export function originAllowed(url: URL, allowlist: readonly string[]): boolean {
  return allowlist.some((entry) => {
    const star = entry.endsWith(':*');
    const allowed = new URL(star ? entry.slice(0, -2) : entry);
    const sameHost = allowed.protocol === url.protocol && allowed.hostname === url.hostname;
    return sameHost && (star || allowed.port === url.port);
  });
}

export type UriCheck = { ok: true; url: URL; allowListed: boolean } | { ok: false; reason: string };

/**
 * SPEC §9, checked when a client is registered and again at every delivery: https unless the
 * origin is allow-listed; a literal special-use address only when allow-listed; no credentials
 * or fragments. Names are checked again when resolved (see {@link guardedLookup}).
 */
export function checkBackchannelUri(uri: string, allowlist: readonly string[]): UriCheck {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return { ok: false, reason: 'is not a URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'must be https' };
  if (url.username || url.password) return { ok: false, reason: 'must not carry credentials' };
  if (url.hash) return { ok: false, reason: 'must not have a fragment' };
  const allowListed = originAllowed(url, allowlist);
  if (allowListed) return { ok: true, url, allowListed };
  if (url.protocol !== 'https:') return { ok: false, reason: 'must be https (or its origin allow-listed in CURFEW_BACKCHANNEL_ALLOWLIST)' };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isSpecialAddress(host)) return { ok: false, reason: 'points at a loopback or private address that is not allow-listed' };
  if (host === 'localhost' || host.endsWith('.localhost')) return { ok: false, reason: 'points at localhost, which is not allow-listed' };
  return { ok: true, url, allowListed };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A DNS lookup for the delivery agent that refuses names resolving to special-use addresses,
 * so a public name cannot be pointed at an internal service (DNS rebinding included: the
 * checked address is the one connected to).
 */
export function guardedLookup(hostname: string, options: object, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const list = addresses as LookupAddress[];
    const bad = list.find((a) => isSpecialAddress(a.address));
    if (bad) {
      const error = Object.assign(new Error(`${hostname} resolves to a special-use address`), { code: 'ESPECIALADDRESS' });
      return callback(error, []);
    }
    if ((options as { all?: boolean }).all) return callback(null, list);
    return callback(null, list[0]!.address, list[0]!.family);
  });
}
