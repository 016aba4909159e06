import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BubblewrapSandbox, DEFAULT_SANDBOX_LIMITS, bubblewrapAvailability } from './bubblewrap/bubblewrap-sandbox.adapter';
import { DockerSandbox, dockerAvailability, dockerRunArguments } from './docker-sandbox.adapter';
import { ProcessSandbox } from './process-sandbox.adapter';
import { describeSandboxContract } from './sandbox.contract';
import { ensureDockerTier } from '../test/support/docker-engine';

// The docker backend runs on an engine scripts/ensure-docker.sh starts where it can, with the
// Debian base image it builds (bash, coreutils, git and node: what the contract assumes).
const dockerTier = ensureDockerTier('base');
const dockerImage = process.env.STEWARD_SANDBOX_IMAGE ?? (dockerTier.available ? dockerTier.images.STEWARD_BASE_IMAGE! : 'none');

describeSandboxContract('process', (root) => new ProcessSandbox({ root }), { available: true });

describeSandboxContract(
  'bubblewrap',
  // Small images: every sandbox of the suite holds a loop device until the suite ends.
  (root) => new BubblewrapSandbox({ root, limits: { diskBytes: 256 * 1024 ** 2 } }),
  { available: bubblewrapAvailability() },
);

describeSandboxContract('docker', (root) => new DockerSandbox({ root, image: dockerImage, limits: { diskBytes: 256 * 1024 ** 2 } }), {
  available: dockerTier.available ? dockerAvailability() : dockerTier.reason,
});

describe('docker sandbox container flags', () => {
  it('asks for every isolation the backend promises, whether or not an engine is here to honour them', () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-docker-flags-'));
    try {
      const args = dockerRunArguments({
        name: 'steward-sandbox-x',
        sandboxId: 'x',
        root: scratch,
        image: 'example/image:1',
        user: '65533:65533',
        limits: { ...DEFAULT_SANDBOX_LIMITS, memoryBytes: 1024 ** 3, processes: 100, cpus: 1.5 },
        binds: [
          { source: `${scratch}/x/workspace`, target: '/workspace', readOnly: false },
          { source: `${scratch}/x/workspace/.git`, target: '/workspace/.git', readOnly: true },
        ],
        oneOff: false,
      });
      const joined = args.join(' ');
      for (const flag of [
        '--network none',
        '--read-only',
        '--memory 1073741824',
        '--memory-swap 1073741824',
        '--pids-limit 100',
        '--cpus 1.5',
        '--security-opt no-new-privileges',
        '--cap-drop ALL',
        '--user 65533:65533',
        `--mount type=bind,source=${scratch}/x/workspace/.git,target=/workspace/.git,readonly`,
      ]) {
        expect(joined).toContain(flag);
      }
      expect(args[args.length - 1]).toBe('example/image:1');
      expect(args.filter((arg) => arg.startsWith('--env')).length).toBe(4);
      expect(joined).not.toMatch(/--privileged|--cap-add|--network host/);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });
});
