export * from './ast';
export { parseLogSearch, parseLogGroupField, statusLevelOf, type LogGroupField } from './parse-search';
export { printLogSearch, printLogField, normalizeSearchTree } from './print-search';
export { matchesLogRecord, fieldText, scalarText, globRegExp, NUMERIC_TEXT, type MatchableLogRecord } from './match';
export {
  parseLogMonitorQuery,
  validateLogMonitorQuery,
  normalizeLogMonitorQuery,
  printLogMonitorQuery,
  type LogMonitorQuery,
  type LogMonitorQueryValidation,
  type RollupMethod,
} from './monitor-query';
