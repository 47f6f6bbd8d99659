import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { ExpiringMap } from '../../../src/store/memory/expiring-map.ts';

describe('a map whose entries expire by the injected clock', () => {
  it('holds an entry until 1 ms before its expiry, and not at it', () => {
    const clock = new ManualClock(Date.now());
    const map = new ExpiringMap<string>(clock);
    const at = clock.now() + 5_000;
    map.set('k', 'v', at);
    map.set('forever', 'f');
    clock.set(at - 1);
    expect(map.get('k')).toBe('v');
    expect(map.expiresAt('k')).toBe(at);
    clock.set(at);
    expect(map.get('k')).toBeUndefined();
    expect(map.expiresAt('k')).toBeUndefined();
    expect(map.get('forever')).toBe('f');
    expect(map.expiresAt('forever')).toBeUndefined();
  });

  it('replaces, deletes, and purges only what expired', () => {
    const clock = new ManualClock(Date.now());
    const map = new ExpiringMap<number>(clock);
    map.set('a', 1, clock.now() + 1_000);
    map.set('a', 2, clock.now() + 10_000);
    map.set('b', 3, clock.now() + 1_000);
    map.set('c', 4);
    clock.advance(1_000);
    map.purge();
    expect(map.get('a')).toBe(2);
    expect(map.get('b')).toBeUndefined();
    map.delete('c');
    expect(map.get('c')).toBeUndefined();
  });
});
