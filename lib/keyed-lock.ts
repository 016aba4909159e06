/**
 * Runs tasks one at a time per key within this process, in call order; tasks under different keys
 * run side by side. Each caller gets its own task's outcome: one task failing does not fail the
 * ones queued after it.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    // The chain only orders tasks; each caller gets its own task's outcome through `result`.
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, settled);
    void settled.then(() => {
      // The last task of a key leaves no entry behind: keys come and go with sandboxes and repositories.
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return result;
  }
}
