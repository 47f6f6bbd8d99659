import { describe, expect, it } from 'vitest';
import { routingPrefix } from '../../src/sessions/ending-id.ts';

describe('routingPrefix', () => {
  it('is the text up to and including the first dot', () => {
    expect(routingPrefix('s12.8f0c-uuid')).toBe('s12.');
    expect(routingPrefix('a.b.c')).toBe('a.');
  });

  it('is empty for an id without one (a plain UUID)', () => {
    expect(routingPrefix('0b9e5f1c-7c43-4a8e-9d7e-3f5f7b1d2c4a')).toBe('');
    expect(routingPrefix('')).toBe('');
  });
});
