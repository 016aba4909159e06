export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __stewardTestTeardown?: () => Promise<void> }).__stewardTestTeardown?.();
}
