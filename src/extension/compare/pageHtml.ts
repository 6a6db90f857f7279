// The compare page's HTML shell. No 'vscode' import: the webview preview harness
// (test/webview/preview.mjs) serves the very same page from plain Node.

export interface PageHtmlOptions {
  /** The webview's cspSource (the origin its resources are served from). */
  cspSource: string;
  /** URL of dist/webview as the page sees it. */
  dist: string;
  nonce: string;
  /** Markup placed before the page script; scripts in it must carry the nonce. */
  beforeScript?: string;
}

/** Strict CSP: nothing remote, scripts and styles only from the bundle or with this nonce. */
export function comparePageHtml({ cspSource, dist, nonce, beforeScript = '' }: PageHtmlOptions): string {
  const csp = `default-src 'none'; img-src ${cspSource} data: blob:; font-src ${cspSource}; style-src ${cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';`;
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${dist}/codicon.css" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${dist}/compare.css">
<title>Compare</title></head>
<body><div id="app"></div>${beforeScript}<script nonce="${nonce}" src="${dist}/compare.js"></script></body></html>`;
}
