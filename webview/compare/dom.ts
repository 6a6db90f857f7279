/**
 * Small DOM and formatting helpers. The page is built with createElement only: the panel's CSP
 * forbids inline styles in markup, so colours and widths go through element.style (CSSOM) or classes.
 */

type Child = Node | string | null | undefined | false;

export interface Props {
  class?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  apply(e, props, children);
  return e;
}

/** A custom element (vscode-elements) by tag name. */
export function custom<T extends HTMLElement = HTMLElement>(tag: string, props: Props = {}, ...children: Child[]): T {
  const e = document.createElement(tag) as T;
  apply(e, props, children);
  return e;
}

function apply(e: HTMLElement, props: Props, children: Child[]): void {
  if (props.class) e.className = props.class;
  if (props.text !== undefined) e.textContent = props.text;
  if (props.title) e.title = props.title;
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
}

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
  const root = el('section', { class: 'section', attrs: { id, 'aria-labelledby': `${id}-title` } }, heading, controls, body);
  return { root, controls, body };
}

export function empty(text: string): HTMLElement {
  return el('p', { class: 'empty', text });
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

export function formatCount(n: number | null): string {
  if (n === null) return '—';
  const units = ['', 'K', 'M', 'B', 'T'];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  // Three significant digits at most, without trailing zeros (10K, 26.8K, 1.25M).
  let r = i === 0 ? n : Number(n.toPrecision(3));
  if (Math.abs(r) >= 1000 && i > 0 && i < units.length - 1) {
    r = Number((r / 1000).toPrecision(3)); // 999.95K rounds up to 1M, not 1000K
    i++;
  }
  return `${r}${units[i]}`;
}

/** A metric value: integers as they are, else 4 significant digits, exponents for the very small or large. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e7 || a < 1e-4)) return v.toExponential(3).replace(/\.?0+e/, 'e'); // 6e-5, 1.25e-7
  return String(Number(v.toPrecision(4)));
}

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
