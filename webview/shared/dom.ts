/**
 * Building a page with createElement and textContent only: text (class names, sample ids, refs) is
 * data, never markup. The panels' CSP forbids inline style attributes, so colours and widths go
 * through element.style (CSSOM) or classes.
 */

export type Child = Node | string | null | undefined | false;

export interface Props {
  class?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
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

/** A plain <button type="button"> that calls onClick. */
export function button(text: string, onClick: () => void, props: Omit<Props, 'text'> = {}): HTMLButtonElement {
  const b = el('button', { ...props, text, attrs: { type: 'button', ...props.attrs } });
  b.addEventListener('click', onClick);
  return b;
}

function apply(e: HTMLElement, props: Props, children: Child[]): void {
  if (props.class) e.className = props.class;
  if (props.text !== undefined) e.textContent = props.text;
  if (props.title) e.title = props.title;
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
}

/**
 * Arrow keys move the focus between the `button.cell` elements of an n×n matrix under `root`
 * (data-r, data-c), as in a grid.
 */
export function moveInMatrix(root: ParentNode, e: KeyboardEvent, n: number): void {
  const t = e.target as HTMLElement;
  if (!t.classList.contains('cell')) return;
  const step: Record<string, [number, number]> = {
    ArrowUp: [-1, 0],
    ArrowDown: [1, 0],
    ArrowLeft: [0, -1],
    ArrowRight: [0, 1],
  };
  const d = step[e.key];
  if (!d) return;
  const r = Math.min(n - 1, Math.max(0, Number(t.dataset.r) + d[0]));
  const c = Math.min(n - 1, Math.max(0, Number(t.dataset.c) + d[1]));
  root.querySelector<HTMLButtonElement>(`button.cell[data-r="${r}"][data-c="${c}"]`)?.focus();
  e.preventDefault();
}
