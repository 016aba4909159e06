/**
 * Sandbox routing. Runs on the shared sandbox queue: whichever host picks it up answers with its
 * own queue, and the incident sends its later sandbox activities there, to the disk that holds the
 * workspace. When that host is gone, the workflow claims another and the activities rebuild there.
 */
export function createSandboxHostActivities(host: { hostId: string; taskQueue: string }) {
  return {
    async claimSandboxHost(): Promise<{ hostId: string; taskQueue: string }> {
      return { hostId: host.hostId, taskQueue: host.taskQueue };
    },
  };
}
