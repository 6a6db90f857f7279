// The evaluation page's HTML shell. No 'vscode' import, so the unit tests can check its CSP.

export interface EvaluationPageOptions {
  /** The webview's cspSource (the origin its resources are served from). */
  cspSource: string;
  /** URL of dist/webview as the page sees it. */
  dist: string;
  nonce: string;
}

/** Strict CSP: nothing remote; images (thumbnails) only through the webview; the one script carries the nonce. */
export function evaluationPageHtml({ cspSource, dist, nonce }: EvaluationPageOptions): string {
  const csp = `default-src 'none'; img-src ${cspSource}; font-src ${cspSource}; style-src ${cspSource}; script-src 'nonce-${nonce}';`;
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${dist}/evaluation.css">
<title>Evaluation</title></head>
<body><div id="app"></div><script nonce="${nonce}" src="${dist}/evaluation.js"></script></body></html>`;
}
