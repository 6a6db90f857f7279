export * from './templates';
export * from './language';
export * from './generate';
export * from './suggest';
export { modelTypesOf, QuickFix, ConfigCheck } from './checks';
export * from './report';
