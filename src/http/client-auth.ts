import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { CurfewError } from '../errors.ts';

type Client = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString();
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  // RFC 6749 §2.3.1: both parts are form-urlencoded inside the Basic header.
  const part = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: part(decoded.slice(0, colon)), secret: part(decoded.slice(colon + 1)) };
}

// One answer for every failure (RFC 6749 §5.2); which one it was goes to the log only.
const unauthorized = (detail: string) => new CurfewError('invalid_client', 'client authentication failed', { detail });

/**
 * Authenticates the calling client the way the token endpoint does: client_secret_basic or
 * client_secret_post for confidential clients (the stored hash compared in constant time, the
 * same compare as the token endpoint's: see compareHashedClientSecrets in src/oidc/provider-patches.ts),
 * client_id alone for public ones.
 */
export async function authenticateClient(ctx: Context, provider: Provider, body: Record<string, unknown>): Promise<Client> {
  const basic = basicCredentials(ctx.get('authorization') || undefined);
  const id = basic?.id ?? (typeof body.client_id === 'string' ? body.client_id : undefined);
  const secret = basic?.secret ?? (typeof body.client_secret === 'string' ? body.client_secret : undefined);
  if (!id) throw unauthorized('no client_id');
  const client = await provider.Client.find(id);
  if (!client) throw unauthorized(`no client ${id}`);
  if (client.clientAuthMethod === 'none') {
    if (secret !== undefined) throw unauthorized(`public client ${id} sent a secret`);
    return client;
  }
  if (secret === undefined || !(await client.compareClientSecret(secret))) throw unauthorized(`client ${id}: ${secret === undefined ? 'no secret' : 'wrong secret'}`);
  return client;
}
