import { describe, expect, it } from 'vitest';
import { sharedEndReads } from '../../src/orgs/shared-reads.ts';

describe('the reads of a wave of ends', () => {
  it('shares the org and client reads of a directory, each under its own method', async () => {
    const calls: string[] = [];
    const directory = {
      getOrg: async (id: string) => (calls.push(`org:${id}`), { id } as never),
      getClient: async (id: string) => (calls.push(`client:${id}`), undefined),
      getClientTombstone: async (id: string) => (calls.push(`tomb:${id}`), undefined),
    };
    const shared = sharedEndReads(directory);
    await Promise.all([shared.getOrg('x'), shared.getOrg('x'), shared.getClient('x'), shared.getClient('x'), shared.getClientTombstone('x')]);
    expect(calls.sort()).toEqual(['client:x', 'org:x', 'tomb:x']);
  });
});
