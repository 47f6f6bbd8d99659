import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsTable, TABLE_END, TABLE_START, withSettingsTable } from '../../src/config/readme-table.ts';
import { listSettings } from '../../src/config/settings.ts';

const README = new URL('../../README.md', import.meta.url);

describe('the README configuration table', () => {
  it('is the one settings.ts generates (run `npm run docs:config` after changing a setting)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).toContain(TABLE_START);
    expect(withSettingsTable(readme)).toBe(readme);
  });

  it('has one row per setting, naming its variable, path and default', () => {
    const table = settingsTable();
    const settings = listSettings();
    expect(table.split('\n')).toHaveLength(settings.length + 2);
    expect(table).toContain('| `PORT` | `port` | `3000` | HTTP port. |');
    expect(table).toContain('| `CURFEW_JWKS` | `secrets.jwks` | generated |');
    expect(table).toContain('| `CURFEW_BACKCHANNEL_ALLOWLIST` | `backchannel.allowlist` | empty |');
  });

  it('escapes a pipe in a meaning, so a row stays one row', () => {
    const table = settingsTable([{ path: 'a.b', env: 'A_B', parse: 'text', description: 'x | y', fallback: 'z' }]);
    expect(table.split('\n')[2]).toBe('| `A_B` | `a.b` | `z` | x \\| y |');
  });

  it('refuses a README without the markers rather than appending a table somewhere', () => {
    expect(() => withSettingsTable('# no table here\n')).toThrow(/markers are missing/);
    expect(withSettingsTable(`a\n${TABLE_START}\nold\n${TABLE_END}\nb`, 'new')).toBe(`a\n${TABLE_START}\nnew\n${TABLE_END}\nb`);
  });
});
