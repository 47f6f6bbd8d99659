import { describe, expect, it } from 'vitest';
import { compareStrings } from '../../src/store/order.ts';

describe('string order', () => {
  it('is code-unit order, not the locale\'s: upper case before lower, digits first, é after z', () => {
    expect(['b', 'a', 'B', 'é', 'z', '10', '9'].sort(compareStrings)).toEqual(['10', '9', 'B', 'a', 'b', 'z', 'é']);
    expect(compareStrings('a', 'a')).toBe(0);
    expect(compareStrings('a', 'b')).toBe(-1);
    expect(compareStrings('b', 'a')).toBe(1);
  });
});
