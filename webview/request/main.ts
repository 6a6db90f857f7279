/**
 * Entry of the request panel's page: a served version's inputs and outputs, the request as JSON
 * (typed, or made up by the host: zeros, random, an image), Send (Ctrl+Enter), the answer with its
 * latency and top classes, Save as Example, and the same request as curl and Python to copy.
 */
import type {
  FromRequestPage,
  RequestAnswer,
  RequestTarget,
  TensorInfo,
  ToRequestPage,
} from '../../src/shared/request/contract';
import { curlSnippet, pythonSnippet } from '../../src/shared/request/snippets';
import { button, el } from '../shared/dom';
import { panelApi } from '../shared/vscodeApi';

const vscode = panelApi<FromRequestPage, ToRequestPage>();
let target: RequestTarget | undefined;

const title = el('h1', { text: 'Request' });
const signature = el('div', { class: 'signature' });
const editor = el('textarea', {
  class: 'request',
  attrs: { 'aria-label': 'Request (Open Inference Protocol JSON)', spellcheck: 'false', rows: '12' },
});
const imageButton = button('Image…', () => vscode.post({ type: 'pickImage' }), {
  title: 'Pick an image; it is preprocessed as the evaluator does (config.json "preprocessing")',
});
const send = button('Send', () => sendRequest(), { class: 'primary', title: 'Send the request (Ctrl+Enter)' });
const save = button('Save as Example', () => vscode.post({ type: 'saveExample' }), {
  title: "Keep this request and the answer in the version's examples (modelreg example replay checks them later)",
});
save.disabled = true;
const status = el('div', { class: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
const top = el('div', { class: 'top' });
const answer = el('pre', { class: 'answer', attrs: { tabindex: '0', 'aria-label': 'Answer' } });
const curl = el('pre', { class: 'snippet' });
const python = el('pre', { class: 'snippet' });

const app = document.getElementById('app') ?? document.body.appendChild(el('div'));
app.append(
  title,
  signature,
  el(
    'div',
    { class: 'toolbar' },
    button('Zeros', () => vscode.post({ type: 'generate', payload: { kind: 'zeros' } }), {
      title: 'Fill every input with zeros of its shape',
    }),
    button('Random', () => vscode.post({ type: 'generate', payload: { kind: 'random' } }), {
      title: 'Fill every input with random values of its shape',
    }),
    imageButton,
  ),
  editor,
  el('div', { class: 'toolbar' }, send, save),
  status,
  top,
  answer,
  el('h2', { text: 'curl' }),
  curl,
  el(
    'div',
    { class: 'toolbar' },
    button('Copy curl', () => copy(curl.textContent ?? '')),
  ),
  el('h2', { text: 'Python (requests)' }),
  python,
  el(
    'div',
    { class: 'toolbar' },
    button('Copy Python', () => copy(python.textContent ?? '')),
  ),
);

editor.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    sendRequest();
  }
});
editor.addEventListener('input', () => snippets());

function sendRequest(): void {
  send.disabled = true;
  status.textContent = 'Sending…';
  vscode.post({ type: 'send', payload: { request: editor.value } });
}

function copy(text: string): void {
  vscode.post({ type: 'copy', payload: { text } });
}

function snippets(): void {
  if (!target) return;
  curl.textContent = curlSnippet(target, editor.value);
  python.textContent = pythonSnippet(target, editor.value);
}

const tensorText = (t: TensorInfo) => `${t.name}  ${t.datatype} [${t.shape.join(', ')}]`;

function showTarget(t: RequestTarget): void {
  target = t;
  title.textContent = `${t.model} v${t.version}`;
  signature.replaceChildren(
    el('p', {
      class: 'muted',
      text: `${t.endpoint}${t.ref !== `${t.model}@v${t.version}` ? ` (serving ${t.ref})` : ''}`,
    }),
    el(
      'div',
      { class: 'io' },
      el('strong', { text: 'Inputs' }),
      ...t.inputs.map((i) => el('code', { text: tensorText(i) })),
    ),
    el(
      'div',
      { class: 'io' },
      el('strong', { text: 'Outputs' }),
      ...t.outputs.map((o) => el('code', { text: tensorText(o) })),
    ),
  );
  imageButton.hidden = !t.takesImage;
}

function showAnswer(a: RequestAnswer): void {
  send.disabled = false;
  save.disabled = !a.savable;
  status.className = `status ${a.status === 200 ? 'ok' : 'bad'}`;
  status.textContent = `${a.status === 200 ? '200 OK' : `HTTP ${a.status}`} · ${a.ms.toFixed(1)} ms${a.version ? ` · answered by version ${a.version}` : ''}`;
  top.replaceChildren();
  if (a.top?.length) {
    const table = el('table', {}, el('caption', { text: 'Top classes' }));
    for (const c of a.top)
      table.append(
        el(
          'tr',
          {},
          el('td', { text: c.label ?? `class ${c.index}` }),
          el('td', { class: 'num', text: c.score.toFixed(4) }),
        ),
      );
    top.append(table);
  }
  answer.textContent = a.text;
}

vscode.listen((msg) => {
  switch (msg.type) {
    case 'target':
      showTarget(msg.payload.target);
      editor.value = msg.payload.request;
      snippets();
      break;
    case 'request':
      editor.value = msg.payload.request;
      save.disabled = true;
      snippets();
      break;
    case 'answer':
      showAnswer(msg.payload);
      break;
    case 'error':
      send.disabled = false;
      status.className = 'status bad';
      status.textContent = msg.payload.message;
      break;
    case 'saved':
      status.textContent = `${status.textContent} · saved as example '${msg.payload.name}' of ${msg.payload.ref}`;
      break;
  }
});
