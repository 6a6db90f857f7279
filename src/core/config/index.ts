export * from './templates';
export * from './language';
export * from './generate';
export { modelTypesOf, QuickFix, ConfigCheck } from './checks';
export * from './report';
