import type { Logger } from '../logger.ts';

export interface PollLoop {
  start(): void;
  /** Stops after the tick in progress, if any; an idle wait is cut short. */
  stop(): Promise<void>;
  /**
   * Something is due now (this instance just queued it): ticks at once if idle, or right after
   * the tick in progress — which may have claimed before it was there.
   */
  wake(): void;
}

export interface PollLoopOptions {
  batch: number;
  /**
   * How long to wait after a tick that took less than a full batch: a fixed poll, or asked anew
   * each time (the sweeper sleeps until the next deadline it knows of, at most its poll).
   */
  idleMs: number | (() => number);
  logger: Logger;
  what: string;
}

/**
 * Runs `tick` in the background until stopped: again at once while a tick takes a full batch
 * (more is due) or a wake came during it, otherwise after `idleMs` or at the next wake,
 * whichever comes first. A failing tick is logged and retried, never fatal.
 */
export function pollLoop(tick: () => Promise<number>, options: PollLoopOptions): PollLoop {
  let running = false;
  let loop: Promise<void> | undefined;
  let woken = false;
  /** Ends the current idle wait early; set only while the loop waits. */
  let interrupt: (() => void) | undefined;

  async function idle(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      interrupt = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    interrupt = undefined;
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          woken = false;
          let taken = 0;
          try {
            taken = await tick();
          } catch (err) {
            options.logger.error({ err }, `${options.what} failed`);
          }
          if (!running || taken >= options.batch || woken) continue;
          const ms = typeof options.idleMs === 'number' ? options.idleMs : options.idleMs();
          if (ms > 0) await idle(ms);
        }
      })();
    },
    wake() {
      woken = true;
      interrupt?.();
    },
    async stop() {
      running = false;
      interrupt?.();
      await loop;
    },
  };
}
