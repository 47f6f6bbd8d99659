import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADMIN_ACTIONS } from '../../../src/admin/operations/actions.ts';

describe('the admin write actions', () => {
  it('are unique dotted names: what was acted on, then the verb', () => {
    expect(new Set(ADMIN_ACTIONS).size).toBe(ADMIN_ACTIONS.length);
    for (const action of ADMIN_ACTIONS) expect(action).toMatch(/^[a-z]+(\.[a-z]+)+$/);
  });

  it('are the list the README documents for admin.write, in the same order', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const sentence = /the\s+action is one of ([\s\S]*?)\(a policy change/.exec(readme)?.[1];
    expect(sentence, 'README: "the action is one of …"').toBeDefined();
    expect([...sentence!.matchAll(/`([a-z.]+)`/g)].map((m) => m[1])).toEqual([...ADMIN_ACTIONS]);
  });
});
