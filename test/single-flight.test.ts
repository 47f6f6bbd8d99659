import { describe, expect, it } from 'vitest';
import { singleFlight } from '../src/single-flight.ts';

/** A read that answers when told to, counting how often it was called for each key. */
function slowRead() {
  const calls: string[] = [];
  const waiting: Array<() => void> = [];
  let version = 0;
  const read = (key: string) => {
    calls.push(key);
    const answer = `${key}@${version}`;
    return new Promise<string>((resolve) => waiting.push(() => resolve(answer)));
  };
  return { read, calls, answerAll: () => waiting.splice(0).forEach((go) => go()), change: () => version++ };
}

describe('reads shared while in flight', () => {
  it('gives concurrent callers of one key one read, and different keys their own', async () => {
    const r = slowRead();
    const get = singleFlight(r.read);
    const answers = Promise.all([get('a'), get('a'), get('b'), get('a')]);
    r.answerAll();
    expect(await answers).toEqual(['a@0', 'a@0', 'b@0', 'a@0']);
    expect(r.calls).toEqual(['a', 'b']);
  });

  it('keeps nothing once the read settled: the next call reads again and sees a change', async () => {
    const r = slowRead();
    const get = singleFlight(r.read);
    const first = get('a');
    r.answerAll();
    expect(await first).toBe('a@0');
    r.change();
    const second = get('a');
    r.answerAll();
    expect(await second).toBe('a@1');
    expect(r.calls).toEqual(['a', 'a']);
  });

  it('does not keep a failed read either: every waiting caller gets the error, the next call retries', async () => {
    let fail = true;
    let calls = 0;
    const get = singleFlight(async (key: string) => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error(`store down reading ${key}`);
      return key;
    });
    const results = await Promise.allSettled([get('a'), get('a')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await get('a')).toBe('a');
    expect(calls).toBe(2);
  });
});
