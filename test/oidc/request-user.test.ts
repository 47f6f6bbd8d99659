import { describe, expect, it } from 'vitest';
import type { User } from '../../src/orgs/types.ts';
import { userInRequest } from '../../src/oidc/request-user.ts';
import { user } from '../store/contract/fixtures.ts';

function reader(found: User | undefined = user()) {
  const calls: string[] = [];
  const read = async (id: string) => {
    calls.push(id);
    return found;
  };
  return { calls, read };
}

describe('userInRequest', () => {
  it('reads a user once per request, however often the request asks; each request reads its own', async () => {
    const { calls, read } = reader();
    const request = {};
    const first = userInRequest(request, 'usr_1', read);
    const second = userInRequest(request, 'usr_1', read);
    expect(await first).toEqual(user());
    expect(await second).toBe(await first);
    await userInRequest({}, 'usr_1', read);
    await userInRequest(request, 'usr_2', read);
    expect(calls).toEqual(['usr_1', 'usr_1', 'usr_2']);
  });

  it('without a request, reads every time', async () => {
    const { calls, read } = reader();
    await userInRequest(undefined, 'usr_1', read);
    await userInRequest(undefined, 'usr_1', read);
    expect(calls).toHaveLength(2);
  });

  it('a failed read is not kept: the next ask of the request reads again', async () => {
    const request = {};
    let n = 0;
    const read = async () => {
      if (n++ === 0) throw new Error('store unavailable');
      return user();
    };
    await expect(userInRequest(request, 'usr_1', read)).rejects.toThrow('store unavailable');
    expect(await userInRequest(request, 'usr_1', read)).toEqual(user());
  });
});
