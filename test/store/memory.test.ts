import { ManualClock } from '../../src/clock.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { describeStoreContract } from './store-contract.ts';

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
