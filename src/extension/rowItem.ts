import * as vscode from 'vscode';

/** What a view row says, worked out without 'vscode' (runRows.ts, deploymentRows.ts) so it is unit-tested. */
export interface RowView {
  label: string;
  description: string;
  tooltip: string;
  /** A codicon id; `~spin` ones animate. */
  icon: string;
  /** A theme colour id for the icon, when the status has one. */
  color?: string;
  /** What the row menus' `viewItem` clauses match. */
  contextValue: string;
}

/** The tree item of a row, read aloud as its label and status line. */
export function rowTreeItem(row: RowView, id: string, state = vscode.TreeItemCollapsibleState.None): vscode.TreeItem {
  const item = new vscode.TreeItem(row.label, state);
  item.id = id;
  item.description = row.description;
  item.tooltip = row.tooltip;
  item.contextValue = row.contextValue;
  item.iconPath = new vscode.ThemeIcon(row.icon, row.color ? new vscode.ThemeColor(row.color) : undefined);
  item.accessibilityInformation = { label: `${row.label}, ${row.description}` };
  return item;
}
