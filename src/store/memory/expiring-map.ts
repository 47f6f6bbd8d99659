import type { Clock } from '../../clock.ts';

interface Entry<T> {
  value: T;
  /** Epoch ms, from the injected clock; absent for records that never expire. */
  expiresAt?: number;
}

/** A Map whose entries expire by the injected clock, checked on every read. */
export class ExpiringMap<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #clock: Clock;
  constructor(clock: Clock) {
    this.#clock = clock;
  }
  get(key: string): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && this.#clock.now() >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }
  expiresAt(key: string): number | undefined {
    return this.get(key) === undefined ? undefined : this.#entries.get(key)!.expiresAt;
  }
  set(key: string, value: T, expiresAt?: number): void {
    this.#entries.set(key, expiresAt === undefined ? { value } : { value, expiresAt });
  }
  delete(key: string): void {
    this.#entries.delete(key);
  }
  /** Drops expired entries; called now and then so memory does not grow with dead records. */
  purge(): void {
    const now = this.#clock.now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt !== undefined && now >= entry.expiresAt) this.#entries.delete(key);
  }
}
