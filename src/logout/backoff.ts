/**
 * Exponential backoff with jitter: attempt n waits between half and all of
 * base·2^(n-1), capped — so RPs coming back from an outage are not hit by every instance at once.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** SPEC §9: a 4xx other than 408 and 429 means the RP will never accept this token. */
export function isPermanentFailure(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}
