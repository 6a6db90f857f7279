import * as path from 'path';
import * as vscode from 'vscode';
import { formatCount } from '../../shared/format';
import { RegistryService } from './registryService';

/** "$(package) 12 models" in the status bar: which registry is in use; a click opens the view. */
export function registryStatusBar(service: RegistryService): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('modelRegistry.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'Model Registry';
  item.command = 'workbench.view.extension.modelRegistry';
  const update = async () => {
    const dir = service.dir;
    if (!dir) return item.hide();
    const where = vscode.workspace.asRelativePath(dir, false);
    try {
      const count = service.exists() ? await (await service.get()).countModels() : 0;
      item.text = `$(package) ${formatCount(count)} model${count === 1 ? '' : 's'}`;
      item.tooltip = `Model Registry in ${where}${path.isAbsolute(where) ? '' : ` (${dir})`}\nClick to open the registry view`;
    } catch (e) {
      item.text = '$(package) $(warning) registry';
      item.tooltip = `Model Registry in ${where} cannot be opened: ${(e as Error).message}`;
    }
    item.show();
  };
  void update();
  const sub = service.onDidChange(() => void update());
  return vscode.Disposable.from(item, sub);
}
