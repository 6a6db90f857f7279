// What the status bar says after Edit Tags, Edit Description and Archive, and what Export offers
// (no 'vscode': unit-tested).

export function tagsSaved(label: string, tags: string[]): string {
  return tags.length ? `Tags of ${label}: ${tags.map((t) => `#${t}`).join(' ')}` : `Tags of ${label} cleared`;
}

export function descriptionSaved(label: string, text: string): string {
  return text.trim() ? `Description of ${label} saved` : `Description of ${label} cleared`;
}

/** `shown`: archived versions were hidden, and are now shown so the archived one stays in view. */
export function archived(ref: string, shown: boolean): string {
  return shown
    ? `Archived ${ref}. Archived versions are now shown (Hide Archived Versions hides them)`
    : `Archived ${ref}`;
}

export function unarchived(ref: string): string {
  return `Unarchived ${ref}`;
}

/**
 * The button of Export's notification. A browser-hosted VS Code (code-server, vscode.dev) has no
 * revealFileInOS: there a file in the workspace is shown in the Explorer view, any other file's
 * path is offered for copying (the notification says where it is).
 */
export function exportButton(canRevealInOS: boolean, inWorkspace: boolean): ExportButton {
  return canRevealInOS ? 'Reveal in File Explorer' : inWorkspace ? 'Reveal in Explorer View' : 'Copy Path';
}
export type ExportButton = 'Reveal in File Explorer' | 'Reveal in Explorer View' | 'Copy Path';
