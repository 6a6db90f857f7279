/**
 * The page's one handle on VS Code's webview API, typed with the panel's contract
 * (src/shared/<panel>/contract.ts): what the page may send, what it receives, the state it keeps.
 */

interface WebviewApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): WebviewApi;

export interface PanelApi<FromPage, ToPage, State> {
  post(message: FromPage): void;
  /** Kept by VS Code across reloads; the host gets it back to restore the panel. */
  setState(state: State): void;
  getState(): unknown;
  /** Handles every message from the host, then tells the host the page is ready (so nothing is lost). */
  listen(handler: (message: ToPage) => void): void;
}

let api: WebviewApi | undefined;

/** VS Code allows acquireVsCodeApi() once per page; every caller gets that one handle. */
export function panelApi<FromPage extends { type: string }, ToPage extends { type: string }, State = never>(): PanelApi<
  FromPage,
  ToPage,
  State
> {
  const vscode = (api ??= acquireVsCodeApi());
  return {
    post: (message) => vscode.postMessage(message),
    setState: (state) => vscode.setState(state),
    getState: () => vscode.getState(),
    listen(handler) {
      window.addEventListener('message', (event: MessageEvent<unknown>) => {
        const m = event.data;
        // The host is trusted, but a message of another shape (an extension's probe) is not ours.
        if (typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string')
          handler(m as ToPage);
      });
      vscode.postMessage({ type: 'ready' });
    },
  };
}
