// Tooltip text of the registry tree, without 'vscode', so it is unit-tested. Descriptions, tags and
// commit subjects come from people and repositories we do not control: they are shown as text,
// never as Markdown (no links, images or command URIs of their own).
import { conversionOf, VersionRecord, versionDtype } from '../../core';
import { formatBytes, formatCount, formatTime } from '../../shared/format';
import { checkSummary } from './treeChildren';
import type { ModelSummary } from '../../core';

/** `text` with every Markdown special character backslash-escaped, and no raw control characters. */
export function escapeMarkdown(text: string): string {
  return (
    text
      .replace(/[\\`*_{}[\]()#+\-.!|<>~:&=$"'@]/g, '\\$&')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, ' ')
  );
}

/** `now`: what "3 hours ago" is counted from (ms since the epoch). */
export function modelTooltip(
  m: Pick<ModelSummary, 'name' | 'description' | 'tags' | 'updatedAt'>,
  now = Date.now(),
): string {
  const parts = [`**${escapeMarkdown(m.name)}**`];
  if (m.description) parts.push(escapeMarkdown(m.description));
  if (m.tags.length) parts.push(`Tags: ${escapeMarkdown(m.tags.join(', '))}`);
  parts.push(`Updated ${escapeMarkdown(formatTime(m.updatedAt, now))}`);
  return parts.join('\n\n');
}

export function versionTooltip(v: VersionRecord, now = Date.now()): string {
  const e = escapeMarkdown;
  const lines = [`**${e(v.ref)}** — ${v.interrupted ? 'interrupted: its import was stopped' : v.status}`, ''];
  const dtype = versionDtype(v.details);
  lines.push(`- format: ${e(v.format ?? '—')} (${e(v.framework ?? '—')})${dtype ? `, ${e(dtype)}` : ''}`);
  const c = conversionOf(v.details);
  if (c) {
    lines.push(
      `- converted from ${e(c.from ?? 'its parent')} by ${e(c.converter)}${c.title ? ` (${e(c.title)})` : ''}`,
    );
    for (const [file, report] of Object.entries(c.files)) lines.push(`- ${e(file)}: ${e(checkSummary(report))}`);
    if (c.sizeBefore !== null && c.sizeAfter !== null)
      lines.push(`- rewritten files: ${formatBytes(c.sizeBefore)} → ${formatBytes(c.sizeAfter)}`);
  }
  if (v.parameterCount !== null) lines.push(`- parameters: ${formatCount(v.parameterCount)}`);
  lines.push(`- size: ${formatBytes(v.sizeBytes)} in ${v.fileCount} files`);
  if (v.git)
    lines.push(
      `- commit: \`${v.git.commit.slice(0, 10).replace(/[^0-9a-f]/g, '')}\`${v.git.dirty ? ' (uncommitted changes)' : ''} ${e(v.git.subject)}`,
    );
  lines.push(`- imported: ${e(formatTime(v.createdAt, now))}`);
  if (v.aliases.length) lines.push(`- aliases: ${e(v.aliases.join(', '))}`);
  if (v.tags.length) lines.push(`- tags: ${e(v.tags.join(', '))}`);
  if (v.archivedAt) lines.push(`- archived: ${e(formatTime(v.archivedAt, now))}`);
  if (v.description) lines.push('', e(v.description));
  return lines.join('\n');
}
