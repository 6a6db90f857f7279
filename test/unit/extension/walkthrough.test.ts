// The Get Started walkthrough in package.json: the first-hour loop in order, each step with a command
// button, a small picture that exists, and completion events that our context keys or commands fire.
import * as assert from 'assert';
import { readFileSync, statSync } from 'fs';
import * as path from 'path';
import { COMMANDS, CONTEXT_KEYS } from '../../../src/extension/commands/commandIds';
import { repoRoot } from '../helpers/paths';

interface Step {
  id: string;
  title: string;
  description: string;
  media: { image?: string; altText?: string };
  completionEvents?: string[];
}
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const walkthroughs: { id: string; title: string; steps: Step[] }[] = pkg.contributes.walkthroughs ?? [];

describe('Get Started walkthrough', () => {
  it('walks the first-hour loop in order', () => {
    assert.deepStrictEqual(
      walkthroughs.map((w) => w.id),
      ['modelRegistry.firstHour'],
    );
    assert.deepStrictEqual(
      walkthroughs[0].steps.map((s) => s.id),
      ['import', 'secondRun', 'compare', 'alias', 'convert', 'dataset', 'evaluate'],
    );
  });

  const steps = walkthroughs[0]?.steps ?? [];
  const ours = new Set<string>(Object.values(COMMANDS));
  for (const s of steps) {
    it(`step "${s.title}" has a button, a small picture and ticks off by what the user did`, () => {
      // A command link alone on its line renders as a button.
      const buttons = s.description.split('\n').filter((l) => /^\[[^\]]+\]\(command:[\w.]+\)$/.test(l));
      assert.strictEqual(buttons.length, 1, `${s.id}: one button line`);
      const command = /command:([\w.]+)/.exec(buttons[0])![1];
      assert.ok(ours.has(command), `${s.id}: ${command} is one of our commands`);
      assert.ok(s.media.image && s.media.altText, `${s.id}: an image with alt text`);
      const image = path.join(repoRoot, s.media.image);
      assert.match(s.media.image, /^media\/walkthrough\/[\w-]+\.(png|svg)$/);
      assert.ok(statSync(image).size < 120_000, `${s.media.image} is small (${statSync(image).size} bytes)`);
      assert.ok(s.completionEvents?.length, `${s.id}: completion events`);
      const keys = new Set<string>(Object.values(CONTEXT_KEYS));
      for (const e of s.completionEvents!) {
        const [kind, what] = [e.slice(0, e.indexOf(':')), e.slice(e.indexOf(':') + 1)];
        if (kind === 'onCommand') assert.ok(ours.has(what), `${s.id}: ${e} is one of our commands`);
        else if (kind === 'onContext') assert.ok(keys.has(what), `${s.id}: ${e} is a key the extension sets`);
        else assert.fail(`${s.id}: ${e} is neither onCommand nor onContext`);
      }
    });
  }

  it('ticks each step off by the context key of what it stands for', () => {
    const byStep = Object.fromEntries(steps.map((s) => [s.id, s.completionEvents]));
    assert.deepStrictEqual(byStep.import, [`onContext:${CONTEXT_KEYS.imported}`]);
    assert.deepStrictEqual(byStep.secondRun, [`onContext:${CONTEXT_KEYS.secondVersion}`]);
    // Not onCommand: that ticks on the click, and the page's re-render closed the command's picker.
    assert.deepStrictEqual(byStep.compare, [`onContext:${CONTEXT_KEYS.compared}`]);
    assert.deepStrictEqual(byStep.alias, [`onContext:${CONTEXT_KEYS.aliased}`]);
    assert.deepStrictEqual(byStep.convert, [`onContext:${CONTEXT_KEYS.converted}`]);
    assert.deepStrictEqual(byStep.dataset, [`onContext:${CONTEXT_KEYS.datasetRegistered}`]);
    assert.deepStrictEqual(byStep.evaluate, [`onContext:${CONTEXT_KEYS.evaluated}`]);
  });
});
