/** How the evaluation page words counts and class names. */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The class name at an index, or a placeholder for samples without one. */
export const className = (classes: string[], i: number | null): string =>
  i === null ? '(none)' : (classes[i] ?? `#${i}`);
