/**
 * Entry of the lineage panel's page: the graph of a version's ancestors and descendants, drawn from
 * the host's data by the shared renderer. Click or Enter reveals a version in the tree; C opens its commit.
 */
import type { FromLineagePage, LineageState, ToLineagePage } from '../../src/shared/lineage/contract';
import { lineageMarkup } from '../../src/shared/lineage/lineageSvg';
import { el } from '../shared/dom';
import { panelApi } from '../shared/vscodeApi';

const vscode = panelApi<FromLineagePage, ToLineagePage, LineageState>();
const graph = el('div', { class: 'graph' });
const app = document.getElementById('app') ?? document.body.appendChild(el('div'));
app.append(
  el('p', {
    class: 'hint',
    text: 'Click or press Enter on a version to reveal it in the registry; press C to open its commit.',
  }),
  graph,
);

// One listener for every node, so a re-render needs no re-wiring.
graph.addEventListener('click', (e) => {
  const ref = nodeOf(e.target)?.dataset.ref;
  if (ref) vscode.post({ type: 'reveal', payload: { ref } });
});
graph.addEventListener('keydown', (e) => {
  const node = nodeOf(e.target);
  const ref = node?.dataset.ref;
  if (!ref) return;
  if (e.key === 'Enter' || e.key === ' ') vscode.post({ type: 'reveal', payload: { ref } });
  else if (e.key.toLowerCase() === 'c' && node.dataset.commit) vscode.post({ type: 'openCommit', payload: { ref } });
});

function nodeOf(target: EventTarget | null): SVGGElement | undefined {
  return (target instanceof Element ? target.closest<SVGGElement>('g.node') : null) ?? undefined;
}

vscode.listen((msg) => {
  switch (msg.type) {
    case 'lineage':
      vscode.setState({ ref: msg.payload.ref });
      // The renderer escapes every text it puts in; the markup holds no script or style attribute.
      graph.innerHTML = lineageMarkup(msg.payload.lineage);
      graph.querySelector<SVGGElement>('.node.focus')?.focus();
      break;
    case 'error':
      graph.replaceChildren(el('p', { text: msg.payload.message }));
      break;
  }
});
