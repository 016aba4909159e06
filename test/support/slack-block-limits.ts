/**
 * Slack's Block Kit limits (api.slack.com/reference/block-kit/blocks), checked the way Slack would:
 * past any of them chat.postMessage answers `invalid_blocks` and the message is not sent at all.
 * The fake Slack server accepts anything, so tests hold blocks to these limits here.
 */
const LIMITS = {
  blocksPerMessage: 50,
  headerText: 150,
  sectionText: 3_000,
  sectionFields: 10,
  fieldText: 2_000,
  contextElements: 10,
  contextElementText: 3_000,
  actionsElements: 25,
  blockId: 255,
} as const;

type Block = Record<string, unknown>;
interface TextObject {
  type?: unknown;
  text?: unknown;
}

function textProblem(where: string, object: unknown, max: number, types: string[]): string[] {
  const text = object as TextObject | undefined;
  if (!text || typeof text.text !== 'string') return [`${where}: no text object`];
  const problems: string[] = [];
  if (!types.includes(String(text.type))) problems.push(`${where}: text type ${String(text.type)}, not ${types.join(' or ')}`);
  if (text.text.length === 0) problems.push(`${where}: empty text`);
  if (text.text.length > max) problems.push(`${where}: ${text.text.length} characters, over ${max}`);
  return problems;
}

/** Every way the blocks break Slack's limits, each saying where; none for blocks Slack accepts. */
export function slackBlockLimitViolations(blocks: Block[]): string[] {
  const problems: string[] = [];
  if (blocks.length > LIMITS.blocksPerMessage) problems.push(`${blocks.length} blocks, over ${LIMITS.blocksPerMessage}`);
  blocks.forEach((block, index) => {
    const where = `block ${index} (${String(block.type)})`;
    if (typeof block.block_id === 'string' && block.block_id.length > LIMITS.blockId) problems.push(`${where}: block_id over ${LIMITS.blockId} characters`);
    switch (block.type) {
      case 'header':
        problems.push(...textProblem(where, block.text, LIMITS.headerText, ['plain_text']));
        break;
      case 'section': {
        const fields = block.fields as unknown[] | undefined;
        if (block.text === undefined && fields === undefined) problems.push(`${where}: neither text nor fields`);
        if (block.text !== undefined) problems.push(...textProblem(where, block.text, LIMITS.sectionText, ['mrkdwn', 'plain_text']));
        if (fields !== undefined) {
          if (fields.length > LIMITS.sectionFields) problems.push(`${where}: ${fields.length} fields, over ${LIMITS.sectionFields}`);
          fields.forEach((field, i) => problems.push(...textProblem(`${where} field ${i}`, field, LIMITS.fieldText, ['mrkdwn', 'plain_text'])));
        }
        break;
      }
      case 'context': {
        const elements = (block.elements as unknown[] | undefined) ?? [];
        if (elements.length === 0) problems.push(`${where}: no elements`);
        if (elements.length > LIMITS.contextElements) problems.push(`${where}: ${elements.length} elements, over ${LIMITS.contextElements}`);
        elements.forEach((element, i) => {
          if ((element as TextObject).type !== 'image') problems.push(...textProblem(`${where} element ${i}`, element, LIMITS.contextElementText, ['mrkdwn', 'plain_text']));
        });
        break;
      }
      case 'actions': {
        const elements = (block.elements as unknown[] | undefined) ?? [];
        if (elements.length === 0 || elements.length > LIMITS.actionsElements) problems.push(`${where}: ${elements.length} elements, not 1 to ${LIMITS.actionsElements}`);
        break;
      }
      case 'divider':
        break;
      default:
        problems.push(`${where}: a block type these checks do not know`);
    }
  });
  return problems;
}
