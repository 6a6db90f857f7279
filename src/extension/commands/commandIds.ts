// Every command this extension registers or runs, in one place. Plain data (no 'vscode'), so a unit
// test checks it against package.json: whatever is contributed is here, and whatever is here is
// contributed or listed in INTERNAL_COMMANDS. Code names commands only through this table.

export const COMMANDS = {
  // Importing
  importOutput: 'modelRegistry.importOutput',
  importOutputPick: 'modelRegistry.importOutputPick',
  importArchive: 'modelRegistry.importArchive',
  importFromObjectStorage: 'modelRegistry.importFromObjectStorage',
  importFromImage: 'modelRegistry.importFromImage',
  forgetObjectStorageKeys: 'modelRegistry.forgetObjectStorageKeys',
  importFromTemplate: 'modelRegistry.importFromTemplate',
  importConfig: 'modelRegistry.importConfig',
  // The Models view and its rows
  refresh: 'modelRegistry.refresh',
  filter: 'modelRegistry.filter',
  clearFilter: 'modelRegistry.clearFilter',
  showArchived: 'modelRegistry.showArchived',
  hideArchived: 'modelRegistry.hideArchived',
  showMore: 'modelRegistry.showMore',
  revealVersion: 'modelRegistry.revealVersion',
  revealFile: 'modelRegistry.revealFile',
  copySha256: 'modelRegistry.copySha256',
  openCommit: 'modelRegistry.openCommit',
  showLineage: 'modelRegistry.showLineage',
  // Versions and models
  setAlias: 'modelRegistry.setAlias',
  removeAlias: 'modelRegistry.removeAlias',
  aliasHistory: 'modelRegistry.aliasHistory',
  editTags: 'modelRegistry.editTags',
  editDescription: 'modelRegistry.editDescription',
  cloneVersion: 'modelRegistry.cloneVersion',
  exportVersion: 'modelRegistry.exportVersion',
  archiveVersion: 'modelRegistry.archiveVersion',
  unarchiveVersion: 'modelRegistry.unarchiveVersion',
  deleteVersion: 'modelRegistry.deleteVersion',
  cleanUpImport: 'modelRegistry.cleanUpImport',
  convertVersion: 'modelRegistry.convertVersion',
  // Registry maintenance
  verify: 'modelRegistry.verify',
  gc: 'modelRegistry.gc',
  // Compare, evaluate
  compareVersions: 'modelRegistry.compareVersions',
  compareWith: 'modelRegistry.compareWith',
  plotAcrossVersions: 'modelRegistry.plotAcrossVersions',
  registerDataset: 'modelRegistry.registerDataset',
  evaluateVersion: 'modelRegistry.evaluateVersion',
  importPredictions: 'modelRegistry.importPredictions',
  openEvaluation: 'modelRegistry.openEvaluation',
  // Training
  trainNewVersion: 'modelRegistry.trainNewVersion',
  rerunTraining: 'modelRegistry.rerunTraining',
  stopRun: 'modelRegistry.stopRun',
  openRunLog: 'modelRegistry.openRunLog',
  retryRun: 'modelRegistry.retryRun',
  revealRunVersion: 'modelRegistry.revealRunVersion',
  compareRun: 'modelRegistry.compareRun',
  refreshRuns: 'modelRegistry.refreshRuns',
  createRecipeFile: 'modelRegistry.createRecipeFile',
  // Serving
  deployLocally: 'modelRegistry.deployLocally',
  stopDeployment: 'modelRegistry.stopDeployment',
  restartDeployment: 'modelRegistry.restartDeployment',
  removeDeployment: 'modelRegistry.removeDeployment',
  openDeploymentLogs: 'modelRegistry.openDeploymentLogs',
  copyDeploymentUrl: 'modelRegistry.copyDeploymentUrl',
  openRequestPanel: 'modelRegistry.openRequestPanel',
  // Team registry
  pushVersion: 'modelRegistry.pushVersion',
  pullVersion: 'modelRegistry.pullVersion',
  refreshTeam: 'modelRegistry.refreshTeam',
  configureTeam: 'modelRegistry.configureTeam',
  teamCredentials: 'modelRegistry.teamCredentials',
  filterTeam: 'modelRegistry.filterTeam',
  clearTeamFilter: 'modelRegistry.clearTeamFilter',
} as const;

export type CommandName = keyof typeof COMMANDS;
export type CommandId = (typeof COMMANDS)[CommandName];

/** Commands run only by the extension itself (tree rows, panels, tests), so not in package.json. None yet. */
export const INTERNAL_COMMANDS: readonly CommandId[] = [];

/** `when`-clause context keys the extension sets (package.json menus and welcome views read them). */
export const CONTEXT_KEYS = {
  filtered: 'modelRegistry.filtered',
  showArchived: 'modelRegistry.showArchived',
  teamFiltered: 'modelRegistry.teamFiltered',
  teamConfigured: 'modelRegistry.teamConfigured',
  isModelConfig: 'modelRegistry.isModelConfig',
  // What the workspace registry holds (core's RegistryProgress): the walkthrough's steps tick off by these.
  imported: 'modelRegistry.imported',
  secondVersion: 'modelRegistry.hasSecondVersion',
  aliased: 'modelRegistry.aliased',
  converted: 'modelRegistry.converted',
  datasetRegistered: 'modelRegistry.datasetRegistered',
  evaluated: 'modelRegistry.evaluated',
  /** A Compare panel was opened in this window. */
  compared: 'modelRegistry.compared',
  /** Import's checkpoint QuickPick is open: 'choice', then 'folder' while picking one checkpoint. */
  askingCheckpoints: 'modelRegistry.askingCheckpoints',
} as const;
