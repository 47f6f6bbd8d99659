import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Audit } from '../audit/audit.ts';
import { hashPassword, verifyPassword } from '../accounts/passwords.ts';
import { newUserId, normalizeUsername, USERNAME } from '../accounts/users.ts';
import { validatePolicy } from '../sessions/policy-validate.ts';
import { checkBackchannelUri } from '../logout/ssrf.ts';
import type { ClientSecrets } from '../orgs/client-secret.ts';
import { clientInputSchema, clientRecord } from '../orgs/client-validate.ts';
import type { DirectoryStore } from '../orgs/store.ts';
import type { User } from '../orgs/types.ts';
import type { Policy } from '../sessions/policy-types.ts';

const userSchema = z
  .object({
    username: z.string().transform(normalizeUsername).pipe(USERNAME),
    password: z.string().min(8, 'must be at least 8 characters').max(1024),
    roles: z.array(z.string().regex(/^[a-z0-9_-]{1,64}$/, 'must be lowercase letters, digits, _ or -')).default([]),
    // Pre-enrolled TOTP (migrations, tests): base32 of at least 16 bytes (26 characters).
    totpSecret: z
      .string()
      .transform((v) => v.replace(/\s/g, '').toUpperCase())
      .pipe(z.string().regex(/^[A-Z2-7]{26,}=*$/, 'must be base32 of at least 16 bytes'))
      .optional(),
    disabled: z.boolean().default(false),
  })
  .strict();

const orgSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits or dashes'),
    name: z.string().min(1).max(200),
    policy: z.unknown(),
    users: z.array(userSchema).default([]),
    clients: z.array(clientInputSchema).default([]),
  })
  .strict();

export const seedSchema = z.object({ orgs: z.array(orgSchema) }).strict();
export type Seed = z.infer<typeof seedSchema>;

export class SeedError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`Invalid seed ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SeedError';
    this.problems = problems;
  }
}

/** Parses and validates a whole seed before anything is written: a bad seed changes nothing. */
export function parseSeed(input: unknown, source = '(inline)', backchannelAllowlist: readonly string[] = []): Seed {
  const parsed = seedSchema.safeParse(input);
  if (!parsed.success) {
    throw new SeedError(source, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const problems: string[] = [];
  const clientIds = new Set<string>();
  parsed.data.orgs.forEach((org, o) => {
    const usernames = new Set<string>();
    org.users.forEach((u, i) => {
      if (usernames.has(u.username)) problems.push(`orgs.${o}.users.${i}.username: "${u.username}" appears twice`);
      usernames.add(u.username);
    });
    org.clients.forEach((c, i) => {
      if (clientIds.has(c.client_id)) problems.push(`orgs.${o}.clients.${i}.client_id: "${c.client_id}" appears twice`);
      clientIds.add(c.client_id);
      if (c.backchannel_logout_uri) {
        const check = checkBackchannelUri(c.backchannel_logout_uri, backchannelAllowlist);
        if (!check.ok) problems.push(`orgs.${o}.clients.${i}.backchannel_logout_uri: ${check.reason}`);
      }
    });
    const roles = [...new Set(['admin', ...org.users.flatMap((u) => u.roles)])];
    const policy = validatePolicy(org.policy, { clients: org.clients.map((c) => c.client_id), roles });
    if (!policy.ok) problems.push(...policy.errors.map((e) => `orgs.${o}.policy.${e.field}: ${e.message}`));
  });
  if (problems.length) throw new SeedError(source, problems);
  return parsed.data;
}

export async function readSeedFile(path: string, backchannelAllowlist: readonly string[] = []): Promise<Seed> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new SeedError(path, [`cannot be read: ${(cause as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new SeedError(path, [`is not JSON: ${(cause as Error).message}`]);
  }
  return parseSeed(json, path, backchannelAllowlist);
}

export interface SeedHooks {
  /** Stores a pre-enrolled TOTP secret (the MFA module owns encryption at rest). */
  enrollTotp?: (user: User, base32Secret: string) => Promise<void>;
  /**
   * Applies a changed policy of an existing org to its live sessions (a seed reload is a policy
   * change like any other); without it the policy is only stored.
   */
  changePolicy?: (org: string, policy: Policy) => Promise<void>;
  /** A user the seed took the `admin` role from: their console sessions must end (issue 10 item 2). */
  adminRemoved?: (user: User) => Promise<void>;
}

/**
 * Applies a seed: the orgs, users and clients it names end up as it says (created or updated);
 * anything it does not name is left alone. Applying the same seed twice changes nothing the
 * second time — passwords are re-hashed only when they no longer verify.
 */
export async function applySeed(seed: Seed, directory: DirectoryStore, audit: Audit, secrets: ClientSecrets, hooks: SeedHooks = {}): Promise<void> {
  const now = new Date().toISOString();
  for (const org of seed.orgs) {
    const roles = [...new Set(['admin', ...org.users.flatMap((u) => u.roles)])];
    const validated = validatePolicy(org.policy, { clients: org.clients.map((c) => c.client_id), roles });
    if (!validated.ok) throw new SeedError(org.id, validated.errors.map((e) => `${e.field}: ${e.message}`));
    const existing = await directory.getOrg(org.id);
    await directory.putOrg({ id: org.id, name: org.name, policy: existing?.policy ?? validated.policy });

    // A client an admin deleted stays deleted: its id is never reused (issue 10 item 8), not even
    // by the seed that first created it. The skip is audited rather than failing the start.
    const deletedClients: string[] = [];
    for (const input of org.clients) {
      const existing = await directory.getClient(input.client_id);
      if (!existing && (await directory.getClientTombstone(input.client_id))) {
        deletedClients.push(input.client_id);
        continue;
      }
      // The seed says whether a client has a secret: no `previous`, so one removed there is removed here.
      await directory.putClient(clientRecord(input, org.id, existing?.createdAt ?? now, secrets));
    }

    for (const input of org.users) {
      const existing = await directory.findUserByName(org.id, input.username);
      const passwordHash =
        existing && (await verifyPassword(existing.passwordHash, input.password))
          ? existing.passwordHash
          : await hashPassword(input.password);
      const user: User = {
        id: existing?.id ?? newUserId(),
        org: org.id,
        username: input.username,
        passwordHash,
        roles: input.roles,
        disabled: input.disabled,
        createdAt: existing?.createdAt ?? now,
      };
      await directory.putUser(user);
      if (existing?.roles.includes('admin') && !user.roles.includes('admin') && hooks.adminRemoved) await hooks.adminRemoved(user);
      if (input.totpSecret && hooks.enrollTotp) await hooks.enrollTotp(user, input.totpSecret);
    }
    // Users and clients first: a policy's rules may name them, and its recompute reads them.
    if (existing && JSON.stringify(existing.policy) !== JSON.stringify(validated.policy)) {
      if (hooks.changePolicy) await hooks.changePolicy(org.id, validated.policy);
      else await directory.putOrg({ id: org.id, name: org.name, policy: validated.policy });
    }
    await audit({
      type: 'seed.applied',
      org: org.id,
      actor: 'system:seed',
      data: { users: org.users.length, clients: org.clients.length - deletedClients.length, ...(deletedClients.length ? { skippedDeletedClients: deletedClients } : {}) },
    });
  }
}
