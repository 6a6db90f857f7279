import * as assert from 'assert/strict';
import { InputError } from '../../../src/core/errors';

/** Awaits p and checks it failed with an InputError naming `file` first, and containing every part. */
export async function rejectsInput(
  p: Promise<unknown>,
  file: string,
  ...parts: (string | RegExp)[]
): Promise<InputError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(
    err instanceof InputError,
    `expected an InputError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
  );
  assert.equal(err.file, file);
  assert.ok(err.message.startsWith(`${file}: `), err.message);
  for (const p of parts) {
    if (typeof p === 'string') assert.ok(err.message.includes(p), `"${err.message}" should contain "${p}"`);
    else assert.match(err.message, p);
  }
  return err;
}
