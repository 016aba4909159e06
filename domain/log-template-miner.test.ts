import { LogTemplateMiner, maskMessage, maskToken, MinerState, PARAMETER, tokenize } from './log-template-miner';

describe('LogTemplateMiner', () => {
  it('groups lines that differ only in their values, and keeps different events apart', () => {
    const miner = new LogTemplateMiner();
    const lines = [
      'Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106 dest: /10.250.19.102:50010',
      'Receiving block blk_7503483334202473044 src: /10.251.215.16:55695 dest: /10.251.215.16:50010',
      'PacketResponder 1 for block blk_38865049064139660 terminating',
      'PacketResponder 0 for block blk_-6952295868487656571 terminating',
    ];
    const [a, b, c, d] = miner.mineAll(lines);
    expect(a!.id).toBe(b!.id);
    expect(c!.id).toBe(d!.id);
    expect(a!.id).not.toBe(c!.id);
    expect(a!.template).toBe('Receiving block <*> src: <*> dest: <*>');
    expect(c!.template).toBe('PacketResponder <*> for block <*> terminating');
  });

  it('turns a position into a parameter once it has been seen varying, and keeps the id it was born with', () => {
    const miner = new LogTemplateMiner();
    const first = miner.learn('payment declined for order by customer alice@example.org today');
    const second = miner.learn('payment declined for order by customer #bob today');
    expect(second.id).toBe(first.id);
    expect(second.template).toBe(`payment declined for order by customer ${PARAMETER} today`);
    // The first line now matches the general template too.
    expect(miner.match('payment declined for order by customer alice@example.org today')).toEqual(second);
    expect(miner.match('refund issued')).toBeNull();
  });

  it('keeps lines apart that differ in a plain word, until that word has been seen taking several values', () => {
    const miner = new LogTemplateMiner();
    const [get, post] = miner.mineAll(['10.0.0.1 "GET /v2/servers HTTP/1.1" status: 200 len: 1893 time: 0.24', '10.0.0.2 "POST /v2/servers HTTP/1.1" status: 202 len: 380 time: 0.09']);
    expect(get!.id).not.toBe(post!.id);
    const users = ['cyrus', 'news', 'test', 'root'].map((user) => miner.learn(`session closed for user ${user}`));
    // Three users are three templates; the fourth shows the position holds a value, and the oldest template takes them all.
    expect(new Set(users.slice(0, 3).map((u) => u.id)).size).toBe(3);
    expect(users[3]).toEqual({ id: users[0]!.id, template: `session closed for user ${PARAMETER}` });
    expect(miner.match('session closed for user guest')?.id).toBe(users[0]!.id);
    // A signature given before the merge still names the merged template, in this miner and in its saved state.
    const reloaded = LogTemplateMiner.fromState(JSON.parse(JSON.stringify(miner.state())));
    expect(reloaded.state().aliases[users[1]!.id]).toBe(users[0]!.id);
    expect(reloaded.learn('session closed for user news').id).toBe(users[0]!.id);
  });

  it('writes one signature per line, in order, with lines learnt early regrouped under the template they ended in', () => {
    const lines = ['user 1001 logged in from web console', 'disk full on volume data', 'user 1002 logged in from web console', 'user 1003 logged in from web console'];
    const results = new LogTemplateMiner().mineAll(lines);
    expect(results).toHaveLength(lines.length);
    expect(results[0]).toEqual(results[2]);
    expect(results[0]!.template).toBe('user <*> logged in from web console');
    expect(results[1]!.template).toBe('disk full on volume data');
  });

  it('keeps ids stable across runs through its saved state, and refuses a malformed state', () => {
    const before = new LogTemplateMiner();
    const id = before.learn('timeout calling inventory after 3000 ms').id;
    const saved = JSON.parse(JSON.stringify(before.state()));
    const after = LogTemplateMiner.fromState(saved);
    expect(after.learn('timeout calling inventory after 5000 ms').id).toBe(id);
    expect(() => LogTemplateMiner.fromState({ ...saved, version: 2 })).toThrow();
    expect(() => LogTemplateMiner.fromState({ ...saved, templates: [{ id: 'not-hex', tokens: [], count: 0 }] })).toThrow();
    expect(MinerState.safeParse(saved).success).toBe(true);
  });

  it('masks values: numbers, UUIDs, addresses, hex ids and timestamps', () => {
    expect(['42', '-7', '3.14', '0x7fed806', 'f47ac10b-58cc-4372-a567-0e02b2c3d479', '10.0.0.1:8080', 'deadbeef12', '2026-12-01T10:00:00Z'].map(maskToken)).toEqual(
      Array(8).fill(PARAMETER),
    );
    // A token with a digit is a value as a whole, but for a label glued before it and a name with one digit.
    expect(['blk_123', '/data/subdir51/blk_9', 'root14_local', 'node-D7', '/latest/meta-data/', 'ns.example.com', '()'].map(maskToken)).toEqual(Array(7).fill(PARAMETER));
    expect(['uid=0', 'onExtend:1514038530000', 'instruction......0'].map(maskToken)).toEqual(['uid=<*>', 'onExtend:<*>', 'instruction......<*>']);
    expect(['NullPointerException', 'java.lang.NullPointerException', 'NameSystem.allocateBlock:', 'ssh2', 'eth0'].map(maskToken)).toEqual([
      'NullPointerException',
      'java.lang.NullPointerException',
      'NameSystem.allocateBlock:',
      'ssh2',
      'eth0',
    ]);
    expect(tokenize('status=500 path:/orders, took 3ms')).toEqual(['status=', '500', 'path:/orders,', 'took', '3ms']);
    // Values that span separators or spaces are masked in the message first.
    expect(maskMessage('bssid 5c:50:15:4c:18:13 at Fri Jun 17 07:07:00 2005 via github.com:443')).toBe('bssid <*> at <*> via <*>');
    expect(maskMessage('close, 1190 bytes (1.16 KB) sent, 0 bytes received, lifetime <1 sec')).toBe('close, <*> <*> sent, <*> received, lifetime <*>');
  });

  it('takes a run of values for one value, so that a list of addresses and a single one are the same event', () => {
    const [one, two] = new LogTemplateMiner().mineAll(['10.11.10.1 "GET /v2/servers/detail HTTP/1.1" status: 200', '10.11.21.122,10.11.10.1 "GET /latest/meta-data/ HTTP/1.1" status: 200']);
    expect(two).toEqual(one);
    expect(one!.template).toBe('<*> "GET <*> status: <*>');
  });

  it('gives every line exactly one signature whatever it holds, the same one for the same line', () => {
    // Lines of random words, values and odd characters, from a seeded generator so a failure repeats.
    let seed = 20261201;
    const next = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const pieces = ['error', 'user', '=', ':', '42', '0x1f', '', ' ', '\t', '<*>', 'é', '"', 'a.b', '/x/9', '-', 'ok'];
    for (let round = 0; round < 50; round += 1) {
      const lines = Array.from({ length: next(30) }, () => Array.from({ length: next(12) }, () => pieces[next(pieces.length)]).join(next(2) ? ' ' : ''));
      const results = new LogTemplateMiner().mineAll(lines);
      expect(results).toHaveLength(lines.length);
      lines.forEach((line, i) => lines.forEach((other, j) => other === line && expect(results[j]!.id).toBe(results[i]!.id)));
      for (const result of results) expect(result.id).toMatch(/^[0-9a-f]{16}$/);
    }
  });
});
