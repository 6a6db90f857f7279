import * as path from 'path';
import { Registry } from '../../../src/core/registry/registry';
import { makeSampleWorkspace } from '../../fixtures/sampleWorkspace';
import { tempDir } from './tmp';

/**
 * Mocha hooks for a suite over the sample workspace: the workspace is made once for the suite, and
 * each test gets a fresh, empty registry (closed after it). `set` hands both to the suite's variables.
 */
export function useSampleRegistry(set: (ws: string, r: Registry) => void): void {
  let ws = '';
  let r: Registry | undefined;
  before(async () => {
    ws = tempDir();
    await makeSampleWorkspace(ws);
  });
  beforeEach(async () => {
    r = await Registry.open(path.join(tempDir(), '.modelreg'));
    set(ws, r);
  });
  afterEach(() => r?.close());
}
