// The HTML shell every panel page loads in. No 'vscode' import: the unit tests check its CSP and the
// webview preview harness (test/webview/preview.mjs) serves the very same page from plain Node.
import type { PageContract } from '../../shared/messages';

export interface ShellOptions {
  /** The webview's cspSource (the origin its resources are served from). */
  cspSource: string;
  /** URL of dist/webview as the page sees it. */
  dist: string;
  nonce: string;
  /** Markup placed before the page script; scripts in it must carry the nonce. */
  beforeScript?: string;
}

/**
 * Strict CSP: nothing remote, no eval, no inline script; scripts only with this nonce, styles and
 * fonts only from the bundle. A page's contract may add image sources or nonce'd <style> elements.
 */
export function pageHtml(
  page: Pick<PageContract<{ type: string }>, 'bundle' | 'title' | 'imgSrc' | 'styleNonce' | 'codicons'>,
  { cspSource, dist, nonce, beforeScript = '' }: ShellOptions,
): string {
  const img = [cspSource, ...(page.imgSrc ?? [])].join(' ');
  const style = page.styleNonce ? `${cspSource} 'nonce-${nonce}'` : cspSource;
  const csp = `default-src 'none'; img-src ${img}; font-src ${cspSource}; style-src ${style}; script-src 'nonce-${nonce}';`;
  const codicons = page.codicons
    ? `\n<link rel="stylesheet" href="${dist}/codicon.css" id="vscode-codicon-stylesheet">`
    : '';
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">${codicons}
<link rel="stylesheet" href="${dist}/${page.bundle}.css">
<title>${page.title}</title></head>
<body><div id="app"></div>${beforeScript}<script nonce="${nonce}" src="${dist}/${page.bundle}.js"></script></body></html>`;
}
