import { describe, expect, it } from 'vitest';
import { noteCodeIssued } from '../../../src/oidc/enforcement/note-code-issued.ts';
import { enforcementState } from '../../../src/oidc/enforcement/request-state.ts';
import { oidcContext } from './world.ts';

describe('note-code-issued', () => {
  it('keeps the saved code\'s RP session on its own request only', () => {
    const ctx = oidcContext({});
    const other = oidcContext({});
    noteCodeIssued()(ctx, { sessionUid: 's1', clientId: 'rp', grantId: 'g1', sid: 'sid-rp' });
    expect(enforcementState(ctx).codeIssued).toEqual({ sessionUid: 's1', clientId: 'rp', grantId: 'g1', sid: 'sid-rp' });
    expect(enforcementState(other).codeIssued).toBeUndefined();
  });

  it('does nothing for a code saved outside a request', () => {
    expect(() => noteCodeIssued()(undefined, { sessionUid: 's1', clientId: 'rp' })).not.toThrow();
  });
});
