import * as path from 'path';

/** The repository root (this file runs from out/test/unit/helpers/). */
export const repoRoot = path.resolve(__dirname, '../../../..');

/** A path in the repository, e.g. a fixture: `repoPath('test/fixtures/weights')`. */
export const repoPath = (...parts: string[]): string => path.join(repoRoot, ...parts);

/** A compiled file in out/, e.g. `compiled('src/cli/main.js')`. */
export const compiled = (...parts: string[]): string => path.join(repoRoot, 'out', ...parts);

/** The CLI as tsc compiles it (the unit tests run it with `node`). */
export const CLI_JS = compiled('src/cli/main.js');
