import { singleFlight } from '../single-flight.ts';
import type { DirectoryStore } from './store.ts';

/** The directory reads every end of a wave makes: its org (step-up) and its clients (logout tokens). */
export type EndReads = Pick<DirectoryStore, 'getOrg' | 'getClient' | 'getClientTombstone'>;

/** The directory with its end-of-session reads shared while in flight (see {@link singleFlight}). */
export function sharedEndReads(directory: EndReads): EndReads {
  return {
    getOrg: singleFlight((id) => directory.getOrg(id)),
    getClient: singleFlight((id) => directory.getClient(id)),
    getClientTombstone: singleFlight((id) => directory.getClientTombstone(id)),
  };
}
