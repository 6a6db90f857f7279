// PLACEHOLDER until the lead writes the real one: keep the contract
//   export async function prepareWorkspace(dir: string): Promise<void>
// It fills an existing empty folder with a committed git repo holding outputs/run1/ (a tiny
// safetensors file and a trainer_state.json). Used by scripts/test-vscode.mjs and runElectron.ts.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

function safetensors(): Buffer {
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, Buffer.alloc(16)]);
}

export async function prepareWorkspace(dir: string): Promise<void> {
  const run1 = path.join(dir, 'outputs', 'run1');
  fs.mkdirSync(run1, { recursive: true });
  fs.writeFileSync(path.join(run1, 'model.safetensors'), safetensors());
  fs.writeFileSync(
    path.join(run1, 'trainer_state.json'),
    JSON.stringify({ log_history: [{ step: 1, loss: 0.9 }, { step: 2, loss: 0.5 }] }, null, 2),
  );
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'Test User');
  git('config', 'user.email', 'test@example.invalid');
  git('add', '-A');
  git('commit', '-q', '-m', 'training run 1');
}
