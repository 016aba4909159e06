/**
 * Content-addressed storage for payloads too large to keep in a workflow history. Keys are the
 * sha256 of the bytes, so a put is idempotent and a get can check what it read.
 */
export interface PayloadStorePort {
  put(key: string, data: Uint8Array): Promise<void>;
  /** Fails when the key is unknown: a history that references a payload nobody can read must not decode to something else. */
  get(key: string): Promise<Uint8Array>;
}
