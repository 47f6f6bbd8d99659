import type { Context } from 'koa';
import { enforcementState } from './request-state.ts';

/** What of a saved authorization code the RP session is recorded from. */
export interface SavedCode {
  sessionUid: string;
  clientId: string;
  grantId?: string;
  sid?: string;
}

// The first code for a client starts its RP session (SPEC §6), and only a code the store really holds
// does: noted as it is saved, recorded by record-rp-session before the response carrying it leaves.
export function noteCodeIssued() {
  return (ctx: Context | undefined, code: SavedCode): void => {
    if (ctx) enforcementState(ctx).codeIssued = code;
  };
}
