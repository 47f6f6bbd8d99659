import { ManualClock } from '../../src/clock.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { describeStoreContract } from './store-contract.ts';
import { describeSessionContract } from './session-contract.ts';
import { manualSharedClock } from '../support/shared-clock.ts';

describeStoreContract('memory', async () => {
  const clock = new ManualClock();
  const store = createMemoryStore({ clock });
  return {
    store,
    clock,
    async advance(ms) {
      clock.advance(ms);
    },
    cleanup: () => store.close(),
  };
});

describeSessionContract('memory', async () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 22, 9));
  const store = createMemoryStore({ clock });
  return { store, clock: manualSharedClock(clock), cleanup: () => store.close() };
});
