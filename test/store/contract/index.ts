import { describeAttemptsContract } from './attempts.ts';
import { describeAuditContract } from './audit.ts';
import { describeChangesContract } from './changes.ts';
import { describeClockContract } from './clock.ts';
import { describeDeadlineIndexContract } from './deadline-index.ts';
import { describeDeliveryContract } from './deliveries.ts';
import { describeDirectoryContract } from './directory.ts';
import { describeMfaContract } from './mfa.ts';
import { describeModelContract } from './models.ts';
import { describeOutboxContract } from './outbox.ts';
import { describeSecretsContract } from './secrets.ts';
import { describeSessionContract } from './sessions.ts';
import type { MakeSubject } from './subject.ts';

export type { ContractSubject, MakeSubject } from './subject.ts';

/**
 * The behaviour every Store implementation owes Curfew, one suite per sub-store. The memory and
 * Redis test files both run all of it, so the two can never drift apart. Time-dependent checks
 * move the shared clock (deadline − 1 ms alive, deadline dead); Redis judges model TTLs by its
 * own clock, so exactly one test lets real time pass there (about 1.2 s).
 */
export function describeStoreContract(name: string, make: MakeSubject): void {
  describeModelContract(name, make);
  describeDirectoryContract(name, make);
  describeChangesContract(name, make);
  describeSecretsContract(name, make);
  describeAuditContract(name, make);
  describeAttemptsContract(name, make);
  describeMfaContract(name, make);
  describeClockContract(name, make);
  describeSessionContract(name, make);
  // The sweeper's claim.
  describeDeadlineIndexContract(name, make);
  describeOutboxContract(name, make);
  // The logout-token queue and its workers' claim.
  describeDeliveryContract(name, make);
}
