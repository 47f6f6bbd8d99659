import type { Logger } from '../logger.ts';

export interface PollLoop {
  start(): void;
  /** Stops after the tick in progress, if any. */
  stop(): Promise<void>;
}

/**
 * Runs `tick` in the background until stopped: again at once while a tick takes a full batch
 * (more is due), otherwise after `idleMs`. A failing tick is logged and retried, never fatal.
 */
export function pollLoop(tick: () => Promise<number>, options: { batch: number; idleMs: number; logger: Logger; what: string }): PollLoop {
  let running = false;
  let loop: Promise<void> | undefined;
  return {
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          let taken = 0;
          try {
            taken = await tick();
          } catch (err) {
            options.logger.error({ err }, `${options.what} failed`);
          }
          if (taken < options.batch && running) await new Promise((r) => setTimeout(r, options.idleMs));
        }
      })();
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}
