/**
 * DOM helpers. The page is built with createElement and textContent only (class names and sample ids
 * are data, never markup); the CSP forbids inline style attributes, so colours go through element.style.
 */
type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; text?: string; title?: string; attrs?: Record<string, string> } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.class) e.className = props.class;
  if (props.text !== undefined) e.textContent = props.text;
  if (props.title) e.title = props.title;
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

export function button(
  text: string,
  onClick: () => void,
  props: { class?: string; title?: string; attrs?: Record<string, string> } = {},
): HTMLButtonElement {
  const b = el('button', { ...props, text, attrs: { type: 'button', ...props.attrs } });
  b.addEventListener('click', onClick);
  return b;
}

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The class name at an index, or a placeholder for samples without one. */
export const className = (classes: string[], i: number | null): string =>
  i === null ? '(none)' : (classes[i] ?? `#${i}`);
