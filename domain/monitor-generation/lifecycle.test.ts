import { monitorsToRetire, type GeneratedMonitorRecord } from './lifecycle';
import { stewardTags } from './proposal';

const origin = { repository: 'acme/checkout', sha: 'abc123', pullRequest: 17 };
const monitor = (id: string, file: string, literals: string[], tags = stewardTags(origin, { file })): GeneratedMonitorRecord => ({ id, name: `monitor ${id}`, tags, literals });

const deletion = (path: string, lines: string[]) =>
  [`diff --git a/${path} b/${path}`, 'deleted file mode 100644', 'index 1111111..0000000', `--- a/${path}`, '+++ /dev/null', `@@ -1,${lines.length} +0,0 @@`, ...lines.map((l) => `-${l}`)].join('\n');

const edit = (path: string, hunk: { context: string[]; removed: string[]; added: string[] }) =>
  [
    `diff --git a/${path} b/${path}`,
    'index 1111111..2222222 100644',
    `--- a/${path}`,
    `+++ b/${path}`,
    `@@ -1,${hunk.context.length + hunk.removed.length} +1,${hunk.context.length + hunk.added.length} @@`,
    ...hunk.context.map((l) => ` ${l}`),
    ...hunk.removed.map((l) => `-${l}`),
    ...hunk.added.map((l) => `+${l}`),
  ].join('\n');

const ERROR_LINE = '  if (!item.bulk) logger.error("bulk price missing for " + item.sku);';

describe('monitorsToRetire', () => {
  it('retires the monitors of a deleted file', () => {
    const diff = `${deletion('src/Bulk.js', ['function bulk() {', ERROR_LINE, '}'])}\n`;
    const retired = monitorsToRetire([monitor('1', 'src/Bulk.js', ['bulk price missing for']), monitor('2', 'src/pricing.js', ['bulk price missing for'])], diff);
    expect(retired).toEqual([{ monitorId: '1', name: 'monitor 1', file: 'src/Bulk.js', reason: 'file_deleted', detail: 'the change deletes src/Bulk.js', checkedAgainstContent: true }]);
  });

  it('keeps the monitor of a deleted file whose literal moved into another file', () => {
    const diff = [deletion('src/bulk.js', [ERROR_LINE]), edit('src/pricing.js', { context: ['// pricing'], removed: [], added: [ERROR_LINE] })].join('\n');
    expect(monitorsToRetire([monitor('1', 'src/bulk.js', ['bulk price missing for'])], diff)).toEqual([]);
  });

  it('retires a monitor whose every literal the change removes from its file', () => {
    const diff = edit('src/pricing.js', { context: ['function bulkPriceCents(item) {'], removed: [ERROR_LINE, "  metrics.span('bulk.lookup');"], added: ['  return item.price;'] });
    const retired = monitorsToRetire([monitor('1', 'src/pricing.js', ['bulk price missing for', 'bulk.lookup'])], diff, () => 'function bulkPriceCents(item) {\n  return item.price;\n}\n');
    expect(retired).toEqual([expect.objectContaining({ monitorId: '1', reason: 'literals_removed', checkedAgainstContent: true })]);
    expect(retired[0]!.detail).toBe('the change removes "bulk price missing for", "bulk.lookup" from src/pricing.js, and the file no longer holds any of them');
  });

  it('keeps a monitor one of whose literals stays', () => {
    const diff = edit('src/pricing.js', { context: ["  metrics.span('bulk.lookup');"], removed: [ERROR_LINE], added: [] });
    expect(monitorsToRetire([monitor('1', 'src/pricing.js', ['bulk price missing for', 'bulk.lookup'])], diff)).toEqual([]);
  });

  it('keeps a monitor whose literal the change rewrites in place', () => {
    const diff = edit('src/pricing.js', { context: [], removed: [ERROR_LINE], added: ['  if (!item.bulk) logger.error("bulk price missing for " + item.id);'] });
    expect(monitorsToRetire([monitor('1', 'src/pricing.js', ['bulk price missing for'])], diff)).toEqual([]);
  });

  it('keeps a monitor whose literal the file still holds in a line the diff does not show', () => {
    const diff = edit('src/pricing.js', { context: [], removed: [ERROR_LINE], added: [] });
    const elsewhereInFile = () => `${ERROR_LINE.replace('item.sku', 'sku')}\n`;
    expect(monitorsToRetire([monitor('1', 'src/pricing.js', ['bulk price missing for'])], diff, elsewhereInFile)).toEqual([]);
    expect(monitorsToRetire([monitor('1', 'src/pricing.js', ['bulk price missing for'])], diff)).toEqual([expect.objectContaining({ reason: 'literals_removed', checkedAgainstContent: false })]);
  });

  it('keeps the monitors of a renamed file, and never touches one Steward did not create', () => {
    const rename = ['diff --git a/src/bulk.js b/src/bulk-pricing.js', 'similarity index 100%', 'rename from src/bulk.js', 'rename to src/bulk-pricing.js'].join('\n');
    expect(monitorsToRetire([monitor('1', 'src/bulk.js', ['bulk price missing for'])], rename)).toEqual([]);
    const userTags = stewardTags(origin, { file: 'src/bulk.js' }).filter((tag) => tag !== 'created_by:steward');
    expect(monitorsToRetire([monitor('2', 'src/bulk.js', ['x'], userTags)], deletion('src/bulk.js', ['x']))).toEqual([]);
  });

  it('fails on a diff it cannot read rather than retiring nothing', () => {
    expect(() => monitorsToRetire([monitor('1', 'src/bulk.js', ['x'])], 'not a diff')).toThrow('not part of a file patch');
  });
});
