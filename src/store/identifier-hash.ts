/**
 * The hasher moved to src/crypto/identifier-hash.ts (the sessions domain uses it, and domains do
 * not import src/store). src/compliance, being reworked on another branch, still imports it from
 * here: remove this file once that import points at src/crypto.
 */
export type { IdentifierHasher } from '../crypto/identifier-hash.ts';
