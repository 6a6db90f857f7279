/** The compare page's own widgets (icons, swatches, sections) and number formatting, over webview/shared/dom. */
import { formatMetric as formatNumber } from '../../src/shared/format';
import { el } from '../shared/dom';

/** A codicon glyph, hidden from screen readers (the control around it carries the label). */
export function icon(name: string): HTMLElement {
  return el('span', { class: `codicon codicon-${name}`, attrs: { 'aria-hidden': 'true' } });
}

/** The version's chart colour as a small square. */
export function swatch(color: string): HTMLElement {
  const s = el('span', { class: 'swatch', attrs: { 'aria-hidden': 'true' } });
  s.style.backgroundColor = color;
  return s;
}

export function badge(text: string, kind = ''): HTMLElement {
  return el('span', { class: `badge ${kind}`.trim(), text });
}

/** A page section: heading, an optional row of controls, and a body that is re-rendered. */
export function section(title: string, id: string): { root: HTMLElement; controls: HTMLElement; body: HTMLElement } {
  const heading = el('h2', { text: title, attrs: { id: `${id}-title` } });
  const controls = el('div', { class: 'controls' });
  const body = el('div', { class: 'section-body' });
  const root = el(
    'section',
    { class: 'section', attrs: { id, 'aria-labelledby': `${id}-title` } },
    heading,
    controls,
    body,
  );
  return { root, controls, body };
}

export function empty(text: string): HTMLElement {
  return el('p', { class: 'empty', text });
}

// One formatting of sizes, counts and metric values for the tree, the CLI and the panel.
export { formatBytes, formatCount } from '../../src/shared/format';
export { formatNumber };

export function signed(v: number, text = formatNumber(v)): string {
  return v > 0 ? `+${text}` : v < 0 ? `−${text.replace(/^-/, '')}` : text;
}

/** Seconds as "1h 02m", "3m 05s" or "12.5s". */
export function formatDuration(seconds: number): string {
  const s = Math.abs(seconds);
  const sign = seconds < 0 ? '−' : '';
  if (s < 60) return `${sign}${Number(s.toPrecision(3))}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  if (h > 0) return m === 0 ? `${sign}${h}h` : `${sign}${h}h ${String(m).padStart(2, '0')}m`;
  return sec === 0 ? `${sign}${m}m` : `${sign}${m}m ${String(sec).padStart(2, '0')}s`;
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
