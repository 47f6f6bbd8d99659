import { describe, expect, it } from 'vitest';
import { isInternalClient } from '../../src/orgs/internal-clients.ts';

describe('internal clients', () => {
  it('are the console\'s and the control test\'s, by reserved prefix', () => {
    expect(isInternalClient('curfew-console-acme')).toBe(true);
    expect(isInternalClient('curfew-control-acme')).toBe(true);
  });

  it('are no other client, however close the name', () => {
    for (const id of ['curfew-consoleacme', 'my-curfew-console-acme', 'Curfew-Console-acme', 'curfew-', 'acme-app', '']) expect(isInternalClient(id), id).toBe(false);
  });
});
