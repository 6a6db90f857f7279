/**
 * The one message envelope every panel uses, in both directions: `{ type, payload }`, with camelCase
 * types and the payload left out when there is nothing to carry. Each panel's contract
 * (src/shared/<panel>/contract.ts) lists its messages as unions of these and validates what the page
 * sends. No 'vscode' and no DOM here: the extension host and the page bundles both import it.
 */

/** A message of type T, with a payload unless P is undefined. */
export type Message<T extends string, P = undefined> = P extends undefined ? { type: T } : { type: T; payload: P };

/** The page's first message once its listener is installed; the host posts nothing before it. */
export type Ready = Message<'ready'>;

/**
 * What the host needs to know about a page: which bundle to load, what its Content-Security-Policy
 * must allow beyond the strict default, and how to check what the page sends and keeps as state.
 */
export interface PageContract<FromPage extends { type: string }, State = never> {
  /** The panel's view type (package.json's onWebviewPanel:<viewType> activates the extension to restore it). */
  viewType: string;
  /** The bundle's base name: dist/webview/<bundle>.js and .css. */
  bundle: string;
  /** The HTML <title>. */
  title: string;
  /** Extra img-src sources (say 'data:' for a canvas export); none by default. */
  imgSrc?: string[];
  /** Also allow <style> elements carrying the page's nonce (web components that inject styles). */
  styleNonce?: boolean;
  /** The page's icon font (dist/webview/codicon.css). */
  codicons?: boolean;
  /** Returns the message when it is well-formed, else undefined; the host acts on nothing else. */
  parse(message: unknown): FromPage | undefined;
  /** Validates the state the page kept (it comes back from the page on restore); absent: no restore. */
  parseState?(state: unknown): State | undefined;
}

// Checks shared by the contracts' validators. Strings are capped so a broken page cannot hand the
// host megabytes where a key is expected.
export const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
export const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
export const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const isStr = (v: unknown, max = 1000): v is string => typeof v === 'string' && v.length <= max;

/** The envelope's type and payload when `msg` has the envelope's shape (type a short string), else undefined. */
export function envelope(msg: unknown): { type: string; payload: unknown } | undefined {
  if (!isObj(msg) || !isStr(msg.type, 40)) return undefined;
  return { type: msg.type, payload: msg.payload };
}
