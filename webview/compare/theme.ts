/**
 * Chart colours from VS Code's theme variables. Canvas drawing cannot use var(), so the values are
 * read at render time and again whenever VS Code switches the theme.
 */
export interface Theme {
  foreground: string;
  muted: string;
  grid: string;
  axis: string;
  background: string;
  tooltipBackground: string;
  tooltipForeground: string;
  tooltipBorder: string;
  dragFill: string;
  dragBorder: string;
  fontFamily: string;
  fontSize: number;
}

let probe: HTMLElement | undefined;

/** Resolves any CSS colour expression (var(), color-mix()) to a concrete colour the canvas understands. */
function resolve(expr: string, fallback: string): string {
  if (!probe) {
    probe = document.createElement('span');
    probe.className = 'color-probe';
    probe.setAttribute('aria-hidden', 'true');
    document.body.append(probe);
  }
  probe.style.color = '';
  probe.style.color = expr;
  if (!probe.style.color) return fallback; // the expression did not parse
  return toRgba(getComputedStyle(probe).color) || fallback;
}

/** Chromium computes color-mix() as "color(srgb r g b / a)"; give the canvas plain rgba(). */
function toRgba(c: string): string {
  const m = /^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.e-]+))?\)$/.exec(c);
  if (!m) return c;
  const [r, g, b] = [m[1], m[2], m[3]].map((x) => Math.round(Number(x) * 255));
  return `rgba(${r}, ${g}, ${b}, ${m[4] ?? 1})`;
}

export function readTheme(): Theme {
  const cs = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  const foreground = v('--vscode-editor-foreground', v('--vscode-foreground', '#808080'));
  const border = v('--vscode-panel-border', 'rgba(128,128,128,0.35)');
  const focus = v('--vscode-focusBorder', '#0078d4');
  const hc =
    document.body.classList.contains('vscode-high-contrast') ||
    document.body.classList.contains('vscode-high-contrast-light');
  return {
    foreground,
    muted: v('--vscode-descriptionForeground', foreground),
    // Grid lines are kept faint except in high contrast, where the theme's border is used as is.
    grid: hc ? border : resolve(`color-mix(in srgb, ${foreground} 12%, transparent)`, border),
    axis: border,
    background: v('--vscode-editor-background', '#ffffff'),
    tooltipBackground: v('--vscode-editorHoverWidget-background', v('--vscode-editorWidget-background', '#252526')),
    tooltipForeground: v('--vscode-editorHoverWidget-foreground', foreground),
    tooltipBorder: v('--vscode-editorHoverWidget-border', border),
    dragFill: resolve(`color-mix(in srgb, ${focus} 18%, transparent)`, 'rgba(0,120,212,0.18)'),
    dragBorder: focus,
    fontFamily: v('--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: Math.max(10, (parseFloat(v('--vscode-font-size', '13px')) || 13) - 1),
  };
}

/** Calls back when VS Code changes the theme (body class) or its variables (html style). */
export function onThemeChange(callback: () => void): MutationObserver {
  let scheduled = false;
  const observer = new MutationObserver(() => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      callback();
    });
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  return observer;
}
