import type { Context } from 'koa';
import { csrfToken } from '../../http/csrf.ts';
import { renderPage } from '../../http/views.ts';
import type { CurfewErrorCode } from '../../errors.ts';

export interface LoginView {
  client: string;
  username?: string;
  error?: string;
}

export function renderLogin(ctx: Context, uid: string, view: LoginView, refusal?: CurfewErrorCode): void {
  renderPage(ctx, 'login', {
    client: view.client,
    username: view.username ?? '',
    error: view.error,
    csrf: csrfToken(ctx),
    action: `/interaction/${uid}/login`,
    abort: `/interaction/${uid}/abort`,
  }, refusal);
}
