import { describe, expect, it } from 'vitest';
import { keySchema, keyTemplate, TEMPLATE_HOLE } from '../../../src/store/redis/keys.ts';

describe('the Redis key schema', () => {
  const k = keySchema('cf:');

  it('keeps the key names of earlier releases, so an upgrade finds every record', () => {
    expect([k.session('h'), k.sid('s'), k.deadlines, k.orgSessions('acme'), k.userSessions('u')]).toEqual(['cf:sso:h', 'cf:sid:s', 'cf:deadlines', 'cf:org:acme:sessions', 'cf:user:u:sessions']);
    expect([k.ended('e'), k.endedDue, k.delivery('d'), k.deliveriesDue, k.orgDeliveries('acme', 'dead')]).toEqual(['cf:ended:e', 'cf:ended:due', 'cf:delivery:d', 'cf:deliveries:due', 'cf:org:acme:deliveries:dead']);
    expect([k.model('Session', 'i'), k.modelIndex('Session', 'uid', 'u'), k.grant('g'), k.audit(undefined), k.attempts('login', 'x')]).toEqual(['cf:m:Session:i', 'cf:m:Session:uid:u', 'cf:grant:g', 'cf:audit:_', 'cf:attempts:login:x']);
  });

  it('reads the pinned clock only where the store was made pinnable', () => {
    expect(k.clockPin).toBe('');
    expect(keySchema('cf:', { pinnableClock: true }).clockPin).toBe('cf:clock:pinned');
  });

  it('gives Lua a template with one hole where the data goes', () => {
    const template = keyTemplate((org) => k.orgDeliveries(org, 'pending'));
    expect(template.split(TEMPLATE_HOLE)).toEqual(['cf:org:', ':deliveries:pending']);
    expect(template.replace(TEMPLATE_HOLE, 'acme')).toBe(k.orgDeliveries('acme', 'pending'));
  });
});
