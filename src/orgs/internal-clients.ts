/**
 * Clients Curfew registers for itself in each org: the admin console (`curfew-console-<org>`)
 * and the compliance control test (`curfew-control-<org>`). Their prefixes are reserved, and
 * no admin may change or delete them: one who could would take over or lock out the console, or
 * silence the control test that proves the org's sessions end (issue 10 item 15).
 */
export const INTERNAL_CLIENT_PREFIXES = ['curfew-console-', 'curfew-control-'] as const;

export const isInternalClient = (clientId: string): boolean => INTERNAL_CLIENT_PREFIXES.some((prefix) => clientId.startsWith(prefix));
