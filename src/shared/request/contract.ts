/**
 * The request panel's contract, imported by the extension host and by the page (webview/request):
 * what a served version takes and gives, the request as JSON text, the answer, and the messages'
 * validator. Plain data only.
 */
import { envelope, isObj, isStr, type Message, type PageContract, type Ready } from '../messages';

export interface TensorInfo {
  name: string;
  datatype: string;
  /** −1 for a dynamic axis. */
  shape: number[];
}

/** Where requests go: a served version of a running server. */
export interface RequestTarget {
  /** The server, e.g. http://127.0.0.1:8000. */
  url: string;
  /** The infer endpoint the panel posts to. */
  endpoint: string;
  model: string;
  version: string;
  /** The ref it was served as (m@production follows the alias). */
  ref: string;
  /** Needed as Authorization: Bearer (servers bound beyond loopback); the snippets name it $MODELREG_TOKEN. */
  needsToken: boolean;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** One image input: the panel offers Image…, preprocessed as the evaluator does. */
  takesImage: boolean;
}

export interface TopClass {
  index: number;
  label?: string;
  score: number;
}

export interface RequestAnswer {
  status: number;
  ms: number;
  /** The answer, pretty-printed (cut at a length a page can show). */
  text: string;
  /** The version that answered (an alias may have moved). */
  version?: string;
  top?: TopClass[];
  /** Save as Example keeps this request and answer. */
  savable: boolean;
}

/** Extension → page. */
export type ToRequestPage =
  | Message<'target', { target: RequestTarget; request: string }>
  | Message<'request', { request: string }>
  | Message<'answer', RequestAnswer>
  | Message<'error', { message: string }>
  | Message<'saved', { name: string; ref: string }>;

/** Page → extension. */
export type FromRequestPage =
  | Ready
  | Message<'send', { request: string }>
  | Message<'generate', { kind: 'zeros' | 'random' }>
  | Message<'pickImage'>
  | Message<'saveExample'>
  | Message<'copy', { text: string }>;

/** A request's JSON text: large tensors are large, but a page cannot hand the host more than the server takes. */
export const MAX_REQUEST_CHARS = 64 * 1024 * 1024;

export function parseFromRequestPage(msg: unknown): FromRequestPage | undefined {
  const m = envelope(msg);
  if (!m) return undefined;
  const p = m.payload;
  switch (m.type) {
    case 'ready':
    case 'pickImage':
    case 'saveExample':
      return { type: m.type };
    case 'send':
      return isObj(p) && isStr(p.request, MAX_REQUEST_CHARS)
        ? { type: 'send', payload: { request: p.request } }
        : undefined;
    case 'generate':
      return isObj(p) && (p.kind === 'zeros' || p.kind === 'random')
        ? { type: 'generate', payload: { kind: p.kind } }
        : undefined;
    case 'copy':
      return isObj(p) && isStr(p.text, MAX_REQUEST_CHARS) ? { type: 'copy', payload: { text: p.text } } : undefined;
    default:
      return undefined;
  }
}

export const REQUEST_PAGE: PageContract<FromRequestPage> = {
  viewType: 'modelRegistry.request',
  bundle: 'request',
  title: 'Request',
  parse: parseFromRequestPage,
};
