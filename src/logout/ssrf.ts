import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';

/**
 * Addresses no logout token goes to unless its origin is allow-listed: everything IANA's
 * special-purpose registries set aside (loopback, private, link-local, CGNAT, unique-local,
 * site-local, NAT64/IPv4-translated, 6to4, Teredo, discard, documentation, benchmarking,
 * multicast, reserved...). The list is ipaddr.js's `range()`, maintained with the registries,
 * rather than a hand list that misses ranges; only plain `unicast` is public. An IPv4-mapped
 * IPv6 address (`::ffff:a.b.c.d`, and ipaddr's reading of `::a.b.c.d`) is judged as the IPv4
 * address it carries, which is where a connection to it goes.
 *
 * ipaddr.js calls the deprecated IPv4-compatible form `::a.b.c.d` (`::7f00:1`, which is how
 * a URL writes `[::127.0.0.1]`) plain unicast, and every future IANA reservation would be
 * too until the library learns of it; so an IPv6 address must also lie in 2000::/3, the only
 * block IANA allocates for global unicast (RFC 4291 §2.4, IANA IPv6 address space).
 */
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');

export function isSpecialAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return true;
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() turns an IPv4-mapped IPv6 address into its IPv4 address.
    address = ipaddr.process(ip);
  } catch {
    return true;
  }
  if (address.range() !== 'unicast') return true;
  return address.kind() === 'ipv6' && !address.match(GLOBAL_UNICAST);
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
  if (ipaddr.isValid(host) && isSpecialAddress(host)) return { ok: false, reason: 'points at a loopback or private address that is not allow-listed' };
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
