import { listSettings, type SettingEntry } from './settings.ts';

/** The README's configuration table sits between these two lines; `npm run docs:config` rewrites it. */
export const TABLE_START = '<!-- settings table: generated from src/config/settings.ts by `npm run docs:config` -->';
export const TABLE_END = '<!-- end of settings table -->';

function shownDefault(s: SettingEntry): string {
  if (s.fallback === undefined) return s.unsetMeans ?? 'unset';
  if (Array.isArray(s.fallback) && s.fallback.length === 0) return 'empty';
  return `\`${typeof s.fallback === 'string' ? s.fallback : JSON.stringify(s.fallback)}\``;
}

/** Pure: the markdown table of every setting, in settings.ts order. */
export function settingsTable(settings: readonly SettingEntry[] = listSettings()): string {
  const rows = settings.map((s) => `| \`${s.env}\` | \`${s.path}\` | ${shownDefault(s)} | ${s.description.replaceAll('|', '\\|')} |`);
  return ['| Variable | Setting | Default | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The README with its settings table replaced by `table`; throws if the markers are missing. */
export function withSettingsTable(readme: string, table: string = settingsTable()): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md: the settings table markers are missing (${TABLE_START} … ${TABLE_END})`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}
