import type { CliCommand } from '../command';
import { reportRejectionsCommand } from './report-rejections';
import { reportTtfpCommand } from './report-ttfp';

/** `steward report ttfp|rejections`: reports made from the workflow histories and the ledger. */
export const reportCommand: CliCommand = {
  register(parent, accept, defaults) {
    const report = parent.command('report').description('reports from the workflow histories and the ledger: report ttfp, report rejections');
    for (const command of [reportTtfpCommand, reportRejectionsCommand]) command.register(report, accept, defaults);
  },
};
