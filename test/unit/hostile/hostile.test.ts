// The hostile-input corpus through the real CLI, one mocha test per group. Every case's failures are
// collected and printed as one table per group, so a single run shows everything that fails.
import * as assert from 'assert';
import { existsSync } from 'fs';
import * as path from 'path';
import { tempDir } from '../helpers/tmp';
import { BETWEEN, Case, CORPUS, GROUPS } from './corpus';
import { CliResult, failureTable, outputProblems, pool, runCli, show, stored, storedDiff } from './harness';

interface Failure {
  id: string;
  problem: string;
  output: string;
}

const oneLine = (r: CliResult) => show((r.err.trim() || r.out.trim()).replace(/\s*\n\s*/g, ' ⏎ '), 220);

async function runCase(c: Case): Promise<Failure[]> {
  const dir = tempDir('modelreg-hostile-');
  const reg = path.join(dir, 'reg');
  const failures: Failure[] = [];
  const fail = (problem: string, r?: CliResult) => failures.push({ id: c.id, problem, output: r ? oneLine(r) : '' });
  const cli = (args: string[]) => runCli(dir, ['--registry', reg, ...args]);
  const checkOutput = (r: CliResult, what: string) => {
    for (const p of outputProblems(r)) fail(`${what}: ${p}`, r);
  };

  let run;
  try {
    run = await c.make(dir);
  } catch (e) {
    fail(`could not generate the case: ${(e as Error).message}`);
    return failures;
  }
  for (const step of run.setup ?? []) {
    const r = await cli(step);
    if (r.code !== 0) {
      fail(`setup \`${step.join(' ')}\` failed (exit ${r.code})`, r);
      return failures;
    }
  }
  await BETWEEN[c.id]?.(dir);
  let before = await stored(reg);
  let fresh = !run.setup?.length;

  /** After a refusal and gc, the registry holds what it held before the hostile input. */
  const checkNothingStored = async () => {
    if (run.stores === false) return;
    // gc only removes: when nothing was left even before it, nothing is left after it either.
    if (storedDiff(before, await stored(reg)).length === 0) return;
    const gc = await cli(['gc', '--json']);
    checkOutput(gc, 'gc');
    if (gc.code !== 0) fail(`gc after the refusal failed (exit ${gc.code})`, gc);
    if (fresh) {
      const list = await cli(['list', '--json']);
      checkOutput(list, 'list');
      let models: { name: string; versionCount: number }[] = [];
      try {
        models = JSON.parse(list.out);
      } catch {
        fail('list --json did not print JSON', list);
      }
      const listed = models.filter((m) => m.versionCount > 0);
      if (listed.length)
        fail(
          `after the refusal and gc, list shows versions: ${listed.map((m) => `${m.name} (${m.versionCount})`).join(', ')}`,
          list,
        );
    }
    for (const p of storedDiff(before, await stored(reg))) fail(`stored after the refusal and gc: ${p}`);
  };

  // A hostile input may be stopped at the door (import-archive refusing it): that is a clean end.
  for (const step of run.prepare ?? []) {
    const r = await cli(step);
    checkOutput(r, `\`${step[0]}\``);
    if (r.code !== 0) {
      if (!r.hung && r.code !== null) await checkNothingStored();
      return failures;
    }
    before = await stored(reg);
    fresh = false;
  }

  const r = await cli(run.args);
  checkOutput(r, 'run');
  const both = r.out + r.err;
  const refused = r.code !== 0;
  if (run.expect === 'refuse' && !refused) fail('accepted (exit 0) but must be refused', r);
  if (run.expect === 'accept' && refused && !r.hung) fail(`refused (exit ${r.code}) but must be accepted`, r);
  if (refused && !r.hung && r.signal === null) {
    if (run.names.length && !run.names.some((n) => both.includes(n)))
      fail(`the refusal does not name the file (expected one of ${run.names.map((n) => show(n, 40)).join(', ')})`, r);
    if (!run.problem.test(both)) fail(`the refusal does not say what is wrong (expected ${run.problem})`, r);
  }
  let seen = both;
  if (!refused) {
    for (const step of run.after ?? []) {
      const a = await cli(step);
      seen += a.out + a.err;
      checkOutput(a, `\`${step[0]}\` after`);
      if (a.code !== 0) fail(`\`${step.join(' ')}\` after the run failed (exit ${a.code})`, a);
    }
  }
  if (run.warns && !run.warns.test(seen))
    fail(
      `no warning matching ${run.warns} (from the run${run.after?.length ? ` or ${run.after.map((s) => s[0]).join(', ')}` : ''})`,
      r,
    );
  for (const m of run.markers ?? []) if (existsSync(m)) fail(`input was executed: ${path.basename(m)} exists`, r);
  if (refused) await checkNothingStored();
  return failures;
}

describe('hostile-input corpus through the CLI', function () {
  this.timeout(15 * 60_000);

  it('has at least 300 generated cases with distinct ids', () => {
    assert.ok(CORPUS.length >= 300, `${CORPUS.length} cases`);
    assert.strictEqual(new Set(CORPUS.map((c) => c.id)).size, CORPUS.length);
  });

  for (const group of GROUPS) {
    const cases = CORPUS.filter((c) => c.group === group);
    it(`${group}: ${cases.length} cases`, async () => {
      const took: [string, number][] = [];
      const failures = (
        await pool(cases, 2, async (c) => {
          const t0 = Date.now();
          const f = await runCase(c);
          took.push([c.id, Date.now() - t0]);
          return f;
        })
      ).flat();
      // Where the time goes (printed, never asserted): the slowest cases of the group.
      console.log(
        `      slowest: ${took
          .sort((a, b) => b[1] - a[1])
          .slice(0, 4)
          .map(([id, ms]) => `${id.slice(group.length + 1)} ${(ms / 1000).toFixed(1)} s`)
          .join(', ')}`,
      );
      if (failures.length) {
        const failed = new Set(failures.map((f) => f.id)).size;
        assert.fail(`${failed} of ${cases.length} ${group} cases failed:\n${failureTable(failures)}`);
      }
    });
  }
});
