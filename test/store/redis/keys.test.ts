import { describe, expect, it } from 'vitest';
import { clusterKeySchema, keySchema, keyTemplate, TEMPLATE_HOLE } from '../../../src/store/redis/keys.ts';

/** Redis' key slot: CRC16 (XMODEM) of the hash tag if the key has a non-empty one, else of the key. */
function slot(key: string): number {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(hashed)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

describe('the Redis key schema', () => {
  const k = keySchema('cf:');

  it('keeps the key names of earlier releases, so an upgrade finds every record', () => {
    expect([k.session('h'), k.sid('s'), k.deadlines(0), k.orgSessions('acme', 0), k.userSessions('u', 0), k.liveRps(0)]).toEqual(['cf:sso:h', 'cf:sid:s', 'cf:deadlines', 'cf:org:acme:sessions', 'cf:user:u:sessions', 'cf:rps:live']);
    expect([k.ended('e'), k.endedDue(0), k.delivery('d'), k.deliveriesDue(0), k.orgDeliveries('acme', 'dead', 0)]).toEqual(['cf:ended:e', 'cf:ended:due', 'cf:delivery:d', 'cf:deliveries:due', 'cf:org:acme:deliveries:dead']);
    expect([k.model('Session', 'i'), k.modelIndex('Session', 'uid', 'u'), k.grant('g'), k.audit(undefined), k.attempts('login', 'x')]).toEqual(['cf:m:Session:i', 'cf:m:Session:uid:u', 'cf:grant:g', 'cf:audit:_', 'cf:attempts:login:x']);
    expect([k.org('acme'), k.user('u'), k.totp('u'), k.clientTombstone('c')]).toEqual(['cf:org:acme', 'cf:user:u', 'cf:mfa:u:totp', 'cf:client-tombstone:c']);
  });

  it('has one shard and no routing prefix on one primary', () => {
    expect([k.shards, k.shardOf('anything'), k.endingIdPrefix('anything'), k.shardOfId('s3.x'), k.cluster]).toEqual([1, 0, '', 0, false]);
    expect(k.sessionKeyOf(k.session('abc'))).toBe('abc');
  });

  it('reads the pinned clock only where the store was made pinnable', () => {
    expect(k.clockPin).toBe('');
    expect(keySchema('cf:', { pinnableClock: true }).clockPin).toBe('cf:clock:pinned');
  });

  it('gives Lua a template with one hole where the data goes', () => {
    const template = keyTemplate((org) => k.orgDeliveries(org, 'pending', 0));
    expect(template.split(TEMPLATE_HOLE)).toEqual(['cf:org:', ':deliveries:pending']);
    expect(template.replace(TEMPLATE_HOLE, 'acme')).toBe(k.orgDeliveries('acme', 'pending', 0));
  });
});

describe('the Redis Cluster key schema', () => {
  const c = clusterKeySchema('cf:', { shards: 16 });
  const sessionKeys = Array.from({ length: 200 }, (_, i) => `key-${i}`);

  it('puts a session and everything its functions touch in one slot', () => {
    for (const key of sessionKeys.slice(0, 20)) {
      const shard = c.shardOf(key);
      const ending = `${c.endingIdPrefix(key)}0b9e5f1c`;
      const keys = [
        c.session(key), c.deadlines(shard), c.ended(ending), c.endedDue(shard), c.liveRps(shard), c.orgSessions('acme', shard), c.userSessions('u', shard),
        c.delivery(`${c.endingIdPrefix(key)}d1`), c.deliveriesDue(shard), c.orgDeliveries('acme', 'pending', shard), c.orgDeliveries('acme', 'dead', shard),
      ];
      expect(new Set(keys.map(slot)).size, keys.join(' ')).toBe(1);
      // Templates filled in by Lua land in that slot too.
      expect(slot(keyTemplate((id) => c.ended(id, shard)).replace(TEMPLATE_HOLE, 'other-id'))).toBe(slot(c.session(key)));
    }
  });

  it('spreads sessions over every shard, and the shards over the three primaries of a cluster', () => {
    const shards = new Set(sessionKeys.map((key) => c.shardOf(key)));
    expect(shards.size).toBe(16);
    const primaryOf = (s: number) => Math.floor((slot(c.deadlines(s)) * 3) / 16384);
    expect(new Set([...shards].map(primaryOf)).size).toBe(3);
  });

  it('finds an ending\'s and a delivery\'s shard from the id alone', () => {
    expect(c.shardOfId('s5.anything')).toBe(5);
    // Not a prefix it made (or a shard beyond the count): a stable hash of the id.
    expect(c.shardOfId('plain-id')).toBe(c.shardOfId('plain-id'));
    expect(c.shardOfId('s99.x')).toBeLessThan(16);
    expect(c.ended('s5.e')).toBe('cf:{s5}ended:s5.e');
  });

  it('keeps the directory in one slot, a user\'s MFA keys in one, and leaves single-key kinds untagged', () => {
    expect(new Set([c.org('a'), c.orgs, c.user('u'), c.usernames('a'), c.users('a'), c.client('x'), c.clients('a'), c.clientTombstone('x')].map(slot)).size).toBe(1);
    expect(new Set([c.totp('u1'), c.totpStep('u1'), c.recoveryCodes('u1'), c.stepUp('u1')].map(slot)).size).toBe(1);
    expect([c.sid('s'), c.model('Session', 'i'), c.secret('jwks'), c.marker]).toEqual(['cf:sid:s', 'cf:m:Session:i', 'cf:secret:jwks', 'cf:marker']);
  });

  it('inverts a record key, and refuses a prefix that would break the tags', () => {
    expect(c.sessionKeyOf(c.session('abc'))).toBe('abc');
    expect(() => clusterKeySchema('cf{x}:')).toThrow(/brace/);
    expect(() => clusterKeySchema('cf:', { shards: 0 })).toThrow(/shards/);
  });
});
