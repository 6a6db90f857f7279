import * as vscode from 'vscode';
import type { RegistryProgress } from '../../core';
import { setContext } from '../commands/register';
import { log } from '../errors';
import { RegistryService } from './registryService';

const NOTHING: RegistryProgress = {
  imported: false,
  secondVersion: false,
  aliased: false,
  converted: false,
  datasetRegistered: false,
  evaluated: false,
};

/**
 * Keeps the context keys of what the registry holds (imported, a v2, an alias…) up to date, so the
 * walkthrough's steps tick off by what was really done, also from the CLI, not by a command merely run.
 */
export function registryProgressContext(service: RegistryService): vscode.Disposable {
  let latest = 0;
  const update = async () => {
    const mine = ++latest;
    let p = NOTHING;
    try {
      if (service.exists()) p = await (await service.get()).progress();
    } catch (e) {
      log().appendLine(`Could not read the registry's progress for the walkthrough: ${(e as Error).message}`);
    }
    if (mine !== latest) return; // a newer read is under way; it sets the keys
    for (const key of Object.keys(p) as (keyof RegistryProgress)[]) await setContext(key, p[key]);
  };
  void update();
  return service.onDidChange(() => void update());
}
