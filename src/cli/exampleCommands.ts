import { Command, Option } from 'commander';
import {
  DEFAULT_TOLERANCE,
  InputError,
  readInferRequest,
  recordExample,
  Registry,
  RegistryError,
  replayExamples,
} from '../core';

type WithRegistry = <T>(fn: (r: Registry) => Promise<T>) => Promise<T>;

const tolerance = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0)) throw new InputError('--tolerance', `expected a number ≥ 0, got '${v}'`);
  return n;
};

export function registerExampleCommands(
  program: Command,
  withRegistry: WithRegistry,
  print: (x: unknown) => void,
): void {
  const example = program
    .command('example')
    .description(
      "a version's examples: inference requests kept with the answers the version gave, replayed on another version as a regression check",
    );
  example
    .command('save')
    .description('send an Open Inference Protocol request (a JSON file) to the version and keep it with the answer')
    .argument('<ref>', 'NAME@vN (an alias is pinned to the version it names now)')
    .argument('<name>', 'the example\'s name (letters, digits, ".", "_", "-")')
    .requiredOption('--request <file>', 'the infer request: {"inputs": [{"name", "shape", "datatype", "data"}, …]}')
    .option('--replace', 'replace an example of that name')
    .option('--json', 'machine-readable output')
    .action((ref: string, name: string, o: { request: string; replace?: boolean; json?: boolean }) =>
      withRegistry(async (r) => {
        const request = await readInferRequest(o.request);
        const saved = await recordExample(r, ref, name, request, { replace: o.replace });
        const v = await r.resolve(ref);
        if (o.json) print({ ref: v.ref, ...saved });
        else console.log(`saved example '${name}' of ${v.ref} (${saved.response.outputs.length} outputs)`);
      }),
    );
  example
    .command('list')
    .description("the version's examples")
    .argument('<ref>')
    .option('--json', 'machine-readable output (with requests and responses)')
    .action((ref: string, o: { json?: boolean }) =>
      withRegistry(async (r) => {
        const v = await r.resolve(ref);
        const examples = await r.examples(v.id);
        if (o.json) return print(examples);
        if (!examples.length)
          console.log(`${v.ref} has no examples; add one: modelreg example save ${v.ref} NAME --request FILE`);
        for (const e of examples)
          console.log(
            `${e.name}\t${e.request.inputs.length} inputs → ${e.response.outputs.length} outputs\t${e.createdAt}\t${e.createdBy}`,
          );
      }),
    );
  example
    .command('rm')
    .description('remove an example of the version')
    .argument('<ref>')
    .argument('<name>')
    .action((ref: string, name: string) =>
      withRegistry(async (r) => {
        await r.removeExample(ref, name);
        console.log(`removed example '${name}' of ${(await r.resolve(ref)).ref}`);
      }),
    );
  example
    .command('replay')
    .description(
      "send FROM's examples to a version (default FROM itself) and compare the answers; exit 1 when one differs",
    )
    .argument('<from>', 'the version whose examples are replayed')
    .option('--on <ref>', 'the version to replay them on (e.g. the candidate: NAME@v4, NAME@staging)')
    .addOption(
      new Option('--tolerance <t>', 'values match when |new − saved| ≤ t·max(1, |saved|)')
        .argParser(tolerance)
        .default(DEFAULT_TOLERANCE),
    )
    .option('--json', 'machine-readable output')
    .action((fromRef: string, o: { on?: string; tolerance: number; json?: boolean }) =>
      withRegistry(async (r) => {
        const from = await r.resolve(fromRef);
        const examples = await r.examples(from.id);
        if (!examples.length)
          throw new RegistryError(
            `${from.ref} has no examples to replay; add one: modelreg example save ${from.ref} NAME --request FILE`,
          );
        const { on, results } = await replayExamples(r, examples, o.on ?? from.ref, o.tolerance);
        const differing = results.filter((x) => !x.same).length;
        if (differing) process.exitCode = 1;
        if (o.json)
          return print({
            from: from.ref,
            on: on.ref,
            tolerance: o.tolerance,
            same: results.length - differing,
            differs: differing,
            examples: results,
          });
        for (const x of results) {
          console.log(
            `${x.same ? 'same   ' : x.error ? 'error  ' : 'DIFFERS'}  ${x.name}  (max |Δ| ${x.maxDiff.toPrecision(3)})`,
          );
          for (const d of x.differences) console.log(`         ${d}`);
        }
        console.log(
          `${results.length - differing} of ${results.length} examples of ${from.ref} answer the same on ${on.ref} (tolerance ${o.tolerance})`,
        );
      }),
    );
}
