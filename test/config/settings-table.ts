/**
 * docs/configuration.md's table of settings, rendered from the schema
 * (lib/config/settings.ts). settings.test.ts checks the page holds exactly
 * this; after changing a setting, print it with
 * `node --conditions=source --import tsx test/config/settings-table.ts`
 * and paste it between the page's markers.
 */
import { pathToFileURL } from 'node:url';
import { type Setting, SETTINGS } from '#lib/config/settings';

export const TABLE_START = '<!-- settings: generated from lib/config/settings.ts (test/config/settings-table.ts) -->';
export const TABLE_END = '<!-- end of settings -->';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function settingsTable(): string {
  const rows = (Object.values(SETTINGS) as Setting[]).map((s) =>
    [
      `\`${s.env}\``,
      cell(s.type.expected),
      s.default !== undefined ? `\`${s.default}\`` : '',
      s.flag ? `\`${s.flag}\`` : '',
      s.setBy,
      s.readBy.join(', '),
      cell(s.doc),
    ].join(' | '),
  );
  return [
    '| Variable | Value | Default | Flag | Set by | Read by | What it does |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.stdout.write(`${TABLE_START}\n${settingsTable()}\n${TABLE_END}\n`);
