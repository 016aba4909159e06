import { monitorGenerationWorkflowId } from '../contracts/monitor-generation';
import { commentKeyProblem } from './comment-key';

describe('commentKeyProblem', () => {
  it("takes the keys monitor generation derives from its workflow ids, and nothing that could close GitHub's hidden marker", () => {
    const workflowId = monitorGenerationWorkflowId('acme/checkout-service', { kind: 'commit', sha: 'deadbeef'.repeat(5) });
    for (const key of [workflowId, `${workflowId}.retired`, 'a', 'x'.repeat(200), 'monitors:acme/checkout:pr-12']) expect(commentKeyProblem(key)).toBeNull();
    for (const key of ['', 'x'.repeat(201), 'ends -->', 'two\nlines', 'tab\there', '<!--', 'ünïcode']) expect(commentKeyProblem(key)).toMatch(/^invalid comment key /);
  });
});
