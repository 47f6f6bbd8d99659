import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { enforcementState } from '../../../src/oidc/enforcement/request-state.ts';

const app = new Koa();
const context = () => app.createContext({ method: 'GET', url: '/', headers: {} } as never, {} as never);

describe('one request\'s enforcement state (src/oidc/enforcement/request-state.ts)', () => {
  it('starts empty and is the same object for every step of the request', () => {
    const ctx = context();
    const state = enforcementState(ctx);
    expect(state).toEqual({});
    state.rpAlive = { sessionUid: 's1', clientId: 'rp' };
    expect(enforcementState(ctx)).toBe(state);
    expect(enforcementState(ctx).rpAlive).toEqual({ sessionUid: 's1', clientId: 'rp' });
  });

  it('is never shared between requests', () => {
    const first = context();
    const second = context();
    enforcementState(first).codeIssued = { sessionUid: 's1', clientId: 'rp' };
    expect(enforcementState(second)).toEqual({});
  });

  it('lives on no property of the request, so nothing else reads or forges it', () => {
    const ctx = context();
    enforcementState(ctx).rpAlive = { sessionUid: 's1', clientId: 'rp' };
    expect(JSON.stringify(ctx.state)).toBe('{}');
    expect(Object.values(ctx).some((value) => typeof value === 'object' && value !== null && 'rpAlive' in value)).toBe(false);
  });
});
