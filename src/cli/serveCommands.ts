import { Command, Option } from 'commander';
import { InputError, modelApiRoute, Registry, serve, servingFeatures } from '../core';

type WithRegistry = <T>(fn: (r: Registry) => Promise<T>) => Promise<T>;

const int = (what: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new InputError(what, `expected an integer ≥ ${min}, got '${v}'`);
  return n;
};

export function registerServeCommands(program: Command, withRegistry: WithRegistry): void {
  program
    .command('serve')
    .description(
      'serve ONNX versions over the Open Inference Protocol (KServe v2 REST), MLflow /invocations and Prometheus /metrics until Ctrl-C; NAME@ALIAS follows the alias when it moves, NAME@vN stays',
    )
    .argument('<ref...>', 'versions to serve: NAME@vN, NAME@ALIAS, NAME (its latest)')
    .option('--host <host>', 'address to bind; any but loopback needs a token', '127.0.0.1')
    .addOption(new Option('--port <port>', 'port (0: any free one)').argParser(int('--port', 0)).default(8000))
    .addOption(
      new Option(
        '--max-batch <n>',
        'dynamic batching: run requests that arrive together as one batch of at most N rows (models whose inputs and outputs have a dynamic first axis); default 1, no batching',
      ).argParser(int('--max-batch', 1)),
    )
    .addOption(
      new Option(
        '--batch-delay-ms <ms>',
        'how long a batch waits for more requests before it runs (default 0: only what is already waiting)',
      ).argParser(int('--batch-delay-ms', 0)),
    )
    .addOption(
      new Option('--max-body-mb <n>', 'largest request body in MiB (413 beyond)')
        .argParser(int('--max-body-mb', 1))
        .default(64),
    )
    .option(
      '--token <token>',
      'require Authorization: Bearer TOKEN on every request (generated for a non-loopback host)',
    )
    .option('--json', 'print {url, models, token?} as one JSON line once ready')
    // For a parent that runs the server (VS Code's Deployments view): stop when it goes.
    .addOption(new Option('--stop-with-stdin', 'stop when stdin ends').hideHelp())
    .action(
      (
        refs: string[],
        o: {
          host: string;
          port: number;
          maxBodyMb: number;
          maxBatch?: number;
          batchDelayMs?: number;
          token?: string;
          json?: boolean;
          stopWithStdin?: boolean;
        },
      ) =>
        withRegistry(async (r) => {
          const { options } = servingFeatures({
            host: o.host,
            port: o.port,
            token: o.token,
            maxBodyBytes: o.maxBodyMb * 1024 * 1024,
            maxBatch: o.maxBatch,
            batchDelayMs: o.batchDelayMs,
            log: (line) => console.error(line),
          });
          // The model's own API (config.json apis) after the built-in routes: it cannot hide /metrics.
          options.routes = [...(options.routes ?? []), modelApiRoute(r, (line) => console.error(line))];
          const server = await serve(r, refs, options);
          const models = server.models();
          const token = server.tokenGenerated ? server.token : undefined;
          if (o.json)
            process.stdout.write(JSON.stringify({ url: server.url, models, ...(token ? { token } : {}) }) + '\n');
          else {
            console.log(`serving on ${server.url} (Open Inference Protocol v2; Ctrl-C stops)`);
            for (const m of models)
              console.log(`  ${server.url}/v2/models/${m.name}/versions/${m.version}  (${m.ref})`);
            if (token) {
              console.log(`token (shown once): ${token}`);
              console.log(`  send it as: Authorization: Bearer ${token}`);
            }
          }
          await new Promise<void>((resolve) => {
            const stop = () => {
              process.off('SIGINT', stop);
              process.off('SIGTERM', stop);
              if (o.stopWithStdin) process.stdin.off('end', stop).destroy(); // so it does not keep the process
              console.error('stopping: finishing the requests in flight');
              void server.close().then(resolve);
            };
            process.once('SIGINT', stop);
            process.once('SIGTERM', stop);
            if (o.stopWithStdin) process.stdin.once('end', stop).resume();
          });
        }),
    );
}
