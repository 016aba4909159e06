import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Severity } from '../../domain/severity';
import { logMonitor, minutesAfter, type IncidentSpec, type MonitorSpec, type TriageScenario } from './triage-builder';

/**
 * Triage cases derived from Loghub's samples (github.com/logpai/loghub, read from a checkout of it).
 * BGL's lines carry the label its administrators gave them: an alert category in the first column,
 * '-' for a message that needed no action. An alert becomes a real case; a '-' line that still reads
 * like a failure (FATAL, ERROR, SEVERE) becomes a noise case. The monitor, the alert around the lines
 * and the severity are written here, by the rubric in evals/datasets/triage/README.md. Hadoop's
 * sample has no per-line label; its README says which failures were injected (a machine disconnected
 * from the network), and those cases say that their label is this reading of it.
 */

interface BglLine {
  lineNumber: number;
  label: string;
  node: string;
  time: string;
  component: string;
  level: string;
  content: string;
}

const LOGHUB = 'Loghub BGL (logpai/loghub; Oliner and Stearley, DSN 2007)';

function readBgl(loghub: string): BglLine[] {
  const text = fs.readFileSync(path.join(loghub, 'BGL', 'BGL_2k.log'), 'utf8');
  return text
    .split(/\r?\n/)
    .filter((line) => line !== '')
    .map((line, index) => {
      const fields = line.split(' ');
      const [label, , , node, stamp, , , component, level] = fields;
      const m = /^(\d{4}-\d{2}-\d{2})-(\d{2})\.(\d{2})\.(\d{2})\.(\d{3})/.exec(stamp!);
      if (!m) throw new Error(`BGL_2k.log line ${index + 1}: unreadable time ${stamp}`);
      return { lineNumber: index + 1, label: label!, node: node!, time: `${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`, component: component!, level: level!, content: fields.slice(9).join(' ') };
    });
}

interface Family {
  service: string;
  team: string;
  monitor: MonitorSpec;
  title: string;
}

const TEAM = 'bgl-system-software';
const FAMILIES = {
  ciod: {
    service: 'bgl-ciod',
    team: TEAM,
    monitor: logMonitor('7100101', 'bgl-ciod', 'bgl-ciod: FATAL errors on I/O nodes', 'level:FATAL', 0, '15m', 'ciod, the control and I/O daemon of the I/O nodes, logged FATAL.\n@pager-bgl-sysadmin'),
    title: 'bgl-ciod: FATAL errors on I/O nodes',
  },
  kernel: {
    service: 'bgl-compute-kernel',
    team: TEAM,
    monitor: logMonitor('7100102', 'bgl-compute-kernel', 'bgl-compute-kernel: FATAL interrupts on compute nodes', 'level:FATAL', 0, '15m', 'The compute node kernel logged FATAL: the job on that node is likely dead.\n@pager-bgl-sysadmin'),
    title: 'bgl-compute-kernel: FATAL interrupts on compute nodes',
  },
  mount: {
    service: 'bgl-io-node',
    team: 'bgl-storage',
    monitor: logMonitor('7100103', 'bgl-io-node', 'bgl-io-node: Lustre mount failures', '"Lustre mount FAILED"', 0, '30m', 'An I/O node could not mount a Lustre file system at boot.\n@slack-bgl-storage'),
    title: 'bgl-io-node: Lustre mount failures',
  },
  mmcs: {
    service: 'bgl-mmcs',
    team: 'bgl-hardware',
    monitor: logMonitor('7100104', 'bgl-mmcs', 'bgl-mmcs: node card and control system errors', 'level:(ERROR OR SEVERE OR WARNING)', 0, '15m', 'The control system (MMCS, discovery, hardware monitor) reported a node card problem.\n@slack-bgl-hardware'),
    title: 'bgl-mmcs: node card and control system errors',
  },
  corrected: {
    service: 'bgl-compute-kernel',
    team: TEAM,
    monitor: logMonitor('7100105', 'bgl-compute-kernel', 'bgl-compute-kernel: memory and cache errors', '"error"', 3, '10m', 'Compute nodes report memory or cache errors.\n@slack-bgl-hardware'),
    title: 'bgl-compute-kernel: memory and cache errors',
  },
} satisfies Record<string, Family>;

interface BglSpec {
  id: string;
  family: keyof typeof FAMILIES;
  /** BGL_2k.log line numbers: the context; the last is the line the alert fired on. */
  lines: number[];
  verdict: 'real' | 'noise' | 'duplicate';
  severity: Severity;
  difficulty: 'easy' | 'medium' | 'hard';
  categories: string[];
  description: string;
  facts: string[];
  incidents?: IncidentSpec[];
  duplicateOf?: string;
  /** What the monitor's threshold is in this case, where it differs from its family's. */
  threshold?: number;
  title?: string;
  /** The alert's transition, where it is not the first trigger. */
  transition?: string;
}

const BGL_SPECS: BglSpec[] = [
  {
    id: 'bgl-ciod-control-stream-two-io-nodes',
    family: 'ciod',
    lines: [9, 10],
    verdict: 'real',
    severity: 'P2',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'connection-failure'],
    description: 'Two I/O nodes in different racks lose their ciod control stream within four seconds; jobs on their compute nodes cannot be driven.',
    facts: ['ciod failed to read the message prefix on its control stream on two I/O nodes', 'the two nodes are in different racks (R04 and R27), four seconds apart', 'jobs on the compute nodes behind those I/O nodes are affected, not the whole machine'],
  },
  {
    id: 'bgl-ciod-control-stream-single-node',
    family: 'ciod',
    lines: [346],
    verdict: 'real',
    severity: 'P3',
    difficulty: 'hard',
    categories: ['public-data', 'bgl', 'low-count'],
    description: 'One ciod control-stream failure on one I/O node: a real failure at a count of one.',
    facts: ['a single FATAL from ciod on I/O node R32-M1-N8-I:J18-U01', 'the control stream to the service node failed, which kills that node set\'s job', 'one occurrence: low volume, but the failure itself is real'],
  },
  {
    id: 'bgl-kernel-dtlb-burst-one-node',
    family: 'kernel',
    lines: [105, 106, 107],
    verdict: 'real',
    severity: 'P2',
    difficulty: 'easy',
    categories: ['public-data', 'bgl', 'crash'],
    description: 'Repeated data TLB error interrupts on one compute node within a quarter hour.',
    facts: ['data TLB error interrupts repeat on the same compute node R30-M0-N9-C:J16-U01', 'a FATAL kernel interrupt ends the job on that node', 'only one node is affected'],
  },
  {
    id: 'bgl-kernel-dtlb-burst-already-open',
    family: 'kernel',
    lines: [133, 134, 135, 136],
    verdict: 'duplicate',
    severity: 'P2',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'duplicate-open-incident'],
    description: 'The same node keeps raising data TLB interrupts hours later, while the incident opened at the start of the burst is still open.',
    incidents: [{ id: 'inc-bgl-dtlb-r30', title: 'Data TLB error interrupts on R30-M0-N9-C:J16-U01', error: 'data TLB error interrupt', status: 'investigating' }],
    duplicateOf: 'inc-bgl-dtlb-r30',
    facts: ['the node R30-M0-N9-C:J16-U01 is the one of the open incident inc-bgl-dtlb-r30', 'the error is the same data TLB error interrupt', 'no new node is affected'],
  },
  {
    id: 'bgl-kernel-dtlb-late-renotify',
    family: 'kernel',
    transition: 'Renotify',
    lines: [161, 162, 163],
    verdict: 'duplicate',
    severity: 'P2',
    difficulty: 'easy',
    categories: ['public-data', 'bgl', 'duplicate-open-incident'],
    description: 'A renotification of the data TLB burst on one node, six hours in, with its incident awaiting a fix.',
    incidents: [
      { id: 'inc-bgl-dtlb-r30-b', title: 'R30-M0-N9 data TLB interrupts kill jobs', error: 'data TLB error interrupt', status: 'awaiting_approval', prUrl: 'https://github.com/llnl-bgl/system-software/pull/412' },
      { id: 'inc-bgl-lustre-0609', title: 'Lustre mount failed on bglio46', error: 'Lustre mount FAILED : bglio46 : point /p/gb1', status: 'closed' },
    ],
    duplicateOf: 'inc-bgl-dtlb-r30-b',
    facts: ['the renotification is for the same node and error as inc-bgl-dtlb-r30-b', 'that incident already has a pull request awaiting approval', 'the Lustre incident is unrelated'],
  },
  {
    id: 'bgl-kernel-storage-interrupt-many-racks',
    family: 'kernel',
    lines: [166, 167, 168, 169, 170, 171, 172, 173],
    verdict: 'real',
    severity: 'P1',
    difficulty: 'easy',
    categories: ['public-data', 'bgl', 'crash', 'widespread'],
    description: 'Data storage interrupts on eight compute nodes in seven racks within eight minutes.',
    facts: ['eight compute nodes in different racks raise FATAL data storage interrupts', 'the failures spread across racks R01 to R16 within minutes', 'many jobs are killed, so the impact is broad'],
  },
  {
    id: 'bgl-kernel-storage-interrupt-next-morning-open',
    family: 'kernel',
    lines: [186, 187, 188, 189, 190, 191, 192, 193],
    verdict: 'duplicate',
    severity: 'P1',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'duplicate-open-incident', 'widespread'],
    description: 'The data storage interrupts return across the machine the next morning while the incident from the evening before is still being fixed.',
    incidents: [{ id: 'inc-bgl-dsi-0613', title: 'FATAL data storage interrupts across racks', error: 'data storage interrupt', status: 'fixing' }],
    duplicateOf: 'inc-bgl-dsi-0613',
    facts: ['the same FATAL data storage interrupt hits eight nodes again', 'inc-bgl-dsi-0613 for this error is still open (fixing)', 'it is the same machine-wide problem, not a new one'],
  },
  {
    id: 'bgl-kernel-storage-interrupt-wave',
    family: 'kernel',
    lines: [210, 211, 212, 213, 214, 216, 218, 220, 223],
    verdict: 'real',
    severity: 'P1',
    difficulty: 'easy',
    categories: ['public-data', 'bgl', 'crash', 'widespread'],
    description: 'Nine compute nodes across the machine raise data storage interrupts within five minutes; no incident is open.',
    threshold: 5,
    facts: ['nine nodes in racks R03 to R25 raise FATAL data storage interrupts', 'the burst lasts five minutes and crosses the threshold of five', 'jobs on many nodes are killed'],
  },
  {
    id: 'bgl-kernel-storage-interrupt-four-nodes',
    family: 'kernel',
    lines: [226, 227, 228, 229],
    verdict: 'real',
    severity: 'P2',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'crash'],
    description: 'Four compute nodes in three racks raise data storage interrupts within two minutes.',
    facts: ['four nodes (R20, R25, R21 twice) raise FATAL data storage interrupts', 'the jobs on those nodes fail', 'a subset of the machine is affected'],
  },
  {
    id: 'bgl-ciod-node-map-no-child-processes',
    family: 'ciod',
    lines: [363],
    verdict: 'real',
    severity: 'P3',
    difficulty: 'hard',
    categories: ['public-data', 'bgl', 'low-count'],
    description: 'ciod cannot create a node map because fork fails with "No child processes": one occurrence on one I/O node.',
    facts: ['ciod failed creating the node map with "No child processes"', 'the error comes from the I/O node itself, not from the user\'s map file', 'one occurrence on one I/O node'],
  },
  {
    id: 'bgl-kernel-rts-panic-two-nodes',
    family: 'kernel',
    lines: [823, 824],
    verdict: 'real',
    severity: 'P2',
    difficulty: 'easy',
    categories: ['public-data', 'bgl', 'crash'],
    description: 'The runtime system panics and stops execution on two compute nodes two seconds apart.',
    facts: ['"rts panic! - stopping execution" on two compute nodes', 'two seconds apart, in racks R01 and R04', 'the jobs on those nodes stop'],
  },
  {
    id: 'bgl-kernel-terminated-bad-message-header',
    family: 'kernel',
    lines: [1030],
    verdict: 'real',
    severity: 'P3',
    difficulty: 'hard',
    categories: ['public-data', 'bgl', 'low-count'],
    description: 'One compute node kernel terminates on a bad message header (invalid cpu): a single, real failure.',
    facts: ['the kernel terminated for reason 1001 on one node', 'the message header named an invalid cpu', 'a single occurrence'],
  },
  {
    id: 'bgl-ciod-load-message-severed',
    family: 'ciod',
    lines: [1257],
    verdict: 'real',
    severity: 'P3',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'low-count', 'connection-failure'],
    description: 'ciod loses the link after LOAD_MESSAGE on one I/O node while loading a job.',
    facts: ['ciod read no message prefix after LOAD_MESSAGE', 'the link to the service node was severed', 'one I/O node, one job load'],
  },
  {
    id: 'bgl-kernel-terminated-two-reasons',
    family: 'kernel',
    lines: [1259, 1260],
    verdict: 'real',
    severity: 'P2',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'crash'],
    description: 'Two compute node kernels in racks R71 and R63 terminate within 21 seconds, for reasons 1003 and 1004.',
    facts: ['two kernels terminated within 21 seconds', 'the reasons differ (1003 and 1004) but both are FATAL terminations', 'jobs on two nodes are lost'],
  },
  {
    id: 'bgl-io-lustre-mount-two-io-nodes',
    family: 'mount',
    lines: [1377, 1378],
    verdict: 'real',
    severity: 'P1',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'storage'],
    description: 'Two I/O nodes fail to mount /p/gb1 within a minute: jobs behind them cannot reach the shared file system.',
    facts: ['Lustre mount FAILED for /p/gb1 on bglio559 and bglio344', 'the two failures are 50 seconds apart', 'compute nodes behind those I/O nodes cannot read or write /p/gb1'],
  },
  {
    id: 'bgl-io-lustre-mount-one-io-node',
    family: 'mount',
    lines: [1383],
    verdict: 'real',
    severity: 'P2',
    difficulty: 'easy',
    categories: ['public-data', 'bgl', 'storage'],
    description: 'One I/O node (bglio75) cannot mount /p/gb1 at boot.',
    facts: ['Lustre mount FAILED for /p/gb1 on bglio75', 'one I/O node is affected', 'its compute nodes have no /p/gb1'],
  },
  {
    id: 'bgl-io-lustre-mount-recurs-open-incident',
    family: 'mount',
    lines: [1404],
    verdict: 'duplicate',
    severity: 'P2',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'duplicate-open-incident', 'storage'],
    description: 'Another I/O node fails to mount /p/gb1 while the incident for the same mount failure is open.',
    incidents: [{ id: 'inc-bgl-lustre-gb1', title: 'Lustre mount of /p/gb1 fails on I/O nodes', error: 'Lustre mount FAILED : bglio23 : point /p/gb1', status: 'reproducing' }],
    duplicateOf: 'inc-bgl-lustre-gb1',
    facts: ['the failure is the Lustre mount of /p/gb1 again, on bglio388', 'inc-bgl-lustre-gb1 is open for the same mount failure', 'it is one more instance of the open problem'],
  },
  {
    id: 'bgl-ciod-load-message-severed-two-nodes',
    family: 'ciod',
    lines: [1401, 1402],
    verdict: 'real',
    severity: 'P2',
    difficulty: 'easy',
    categories: ['public-data', 'bgl', 'connection-failure'],
    description: 'Two I/O nodes lose their link after LOAD_MESSAGE within four seconds.',
    facts: ['ciod lost the link after LOAD_MESSAGE on two I/O nodes', 'the two failures are four seconds apart', 'the job being loaded on those nodes fails'],
  },
  {
    id: 'bgl-ciod-severed-under-new-title',
    family: 'ciod',
    lines: [1486],
    verdict: 'duplicate',
    severity: 'P3',
    difficulty: 'hard',
    categories: ['public-data', 'bgl', 'renamed-alert'],
    title: 'bgl-ciod: job loads failing on I/O nodes',
    description: 'The LOAD_MESSAGE link failure arrives under a renamed monitor title while its incident from the week before is still open.',
    incidents: [{ id: 'inc-bgl-ciod-load', title: 'bgl-ciod: FATAL errors on I/O nodes (LOAD_MESSAGE link severed)', error: 'ciod: Error reading message prefix after LOAD_MESSAGE on CioStream socket to 172.16.96.116:42213: Link has been severed', status: 'investigating' }],
    duplicateOf: 'inc-bgl-ciod-load',
    facts: ['the error is the LOAD_MESSAGE link failure of inc-bgl-ciod-load', 'only the alert title changed, not the error', 'one I/O node, as before'],
  },
  {
    id: 'bgl-kernel-terminated-then-tree-network',
    family: 'kernel',
    lines: [1520, 1521],
    verdict: 'real',
    severity: 'P2',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'crash', 'network'],
    description: 'A kernel terminates and, 31 seconds later, a neighbour in the same midplane receives a packet of the wrong type on the tree network.',
    facts: ['both nodes are in midplane R63-M1', 'one kernel terminated (reason 1004), the next node received a wrong packet type on the tree network', 'the failures are related, on one midplane'],
  },
  {
    id: 'bgl-kernel-tree-network-single',
    family: 'kernel',
    lines: [1719],
    verdict: 'real',
    severity: 'P3',
    difficulty: 'hard',
    categories: ['public-data', 'bgl', 'low-count', 'network'],
    description: 'One tree-network receive error on one node: expecting packet type 57, got 3.',
    facts: ['one node received a packet of type 3 where type 57 was expected', 'the tree network error is FATAL for that node\'s job', 'a single occurrence'],
  },
  {
    id: 'bgl-kernel-midplane-r46-failure',
    family: 'kernel',
    lines: [1748, 1749, 1750],
    verdict: 'real',
    severity: 'P2',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'crash', 'network'],
    description: 'A kernel terminates on R46-M1 and two other nodes of the same midplane hit tree-network errors within 20 seconds.',
    facts: ['three nodes of midplane R46-M1 fail within 20 seconds', 'a kernel termination is followed by tree network receive errors', 'the partition on that midplane is affected'],
  },
  {
    id: 'bgl-kernel-midplane-r57-failure',
    family: 'kernel',
    lines: [1757, 1758],
    verdict: 'real',
    severity: 'P2',
    difficulty: 'easy',
    categories: ['public-data', 'bgl', 'crash', 'network'],
    description: 'Kernel termination then a tree-network error on midplane R57-M0, two minutes apart.',
    facts: ['two nodes of midplane R57-M0 fail', 'a kernel termination (reason 1004) and a tree network packet error', 'one partition is affected'],
  },
  {
    id: 'bgl-ciod-connection-reset-many-io-nodes',
    family: 'ciod',
    lines: [1779, 1781, 1783],
    verdict: 'real',
    severity: 'P1',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'connection-failure', 'widespread'],
    description: 'Three I/O nodes in three racks have their CioStream connection reset by peer within two minutes.',
    facts: ['ciod on three I/O nodes got "Connection reset by peer" on its CioStream socket', 'all three sockets go to the same service node 172.16.96.116', 'jobs on several partitions lose their control stream'],
  },
  {
    id: 'bgl-ciod-connection-timed-out-single',
    family: 'ciod',
    lines: [1778],
    verdict: 'real',
    severity: 'P3',
    difficulty: 'hard',
    categories: ['public-data', 'bgl', 'low-count', 'connection-failure'],
    description: 'A single ciod CioStream read that timed out on one I/O node.',
    facts: ['ciod\'s CioStream read timed out once', 'on one I/O node, R14-M0-NC-I:J18-U11', 'the count is one, yet the job on that node set fails'],
  },
  {
    id: 'bgl-ciod-link-severed-open-incident',
    family: 'ciod',
    lines: [1795],
    verdict: 'duplicate',
    severity: 'P2',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'duplicate-open-incident', 'connection-failure'],
    description: 'A "Link has been severed" ciod failure while the incident for the same failure, opened two days before, is still open.',
    incidents: [
      { id: 'inc-bgl-ciod-severed', title: 'ciod CioStream link severed on I/O nodes', error: 'ciod: Error reading message prefix on CioStream socket to 172.16.96.116:60243, Link has been severed', status: 'fixing' },
      { id: 'inc-bgl-lustre-1121', title: 'Lustre mount failed on bglio78', error: 'Lustre mount FAILED : bglio78 : block_id : location', status: 'closed' },
    ],
    duplicateOf: 'inc-bgl-ciod-severed',
    facts: ['the error is the CioStream "Link has been severed" of inc-bgl-ciod-severed', 'that incident is still being fixed', 'the closed Lustre incident is a different problem'],
  },
  {
    id: 'bgl-ciod-login-chdir-io-error',
    family: 'ciod',
    lines: [1973],
    verdict: 'real',
    severity: 'P2',
    difficulty: 'hard',
    categories: ['public-data', 'bgl', 'storage'],
    description: 'A job login fails because chdir into /p/gb1 returns an Input/output error: the file system, not the user, is at fault.',
    facts: ['ciod LOGIN chdir failed with Input/output error, not "No such file or directory"', 'the directory is on /p/gb1, the shared Lustre file system', 'an I/O error means the file system is failing for jobs on that node'],
  },
  {
    id: 'bgl-ciod-link-severed-december',
    family: 'ciod',
    lines: [1974],
    verdict: 'real',
    severity: 'P3',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'low-count', 'connection-failure'],
    description: 'One CioStream "Link has been severed" on one I/O node, with no incident open.',
    facts: ['ciod lost its CioStream link once', 'on I/O node R74-M1-N8-I:J18-U11', 'no open incident covers it'],
  },
  {
    id: 'bgl-io-lustre-mount-block-id',
    family: 'mount',
    lines: [1768],
    verdict: 'real',
    severity: 'P2',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'storage'],
    description: 'An I/O node fails a Lustre mount with a block_id location error.',
    facts: ['Lustre mount FAILED on bglio78', 'the failure names block_id and location rather than a mount point', 'the jobs behind that I/O node lose the file system'],
  },
  // '-' lines: no administrator action was needed, however they read.
  {
    id: 'bgl-ciod-missing-program-image-user-path',
    family: 'ciod',
    lines: [1443, 1444, 1447],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'user-error'],
    description: 'ciod logs FATAL three times because one user asked to run programs that do not exist at the path given.',
    facts: ['every error is "invalid or missing program image, No such file or directory"', 'all three paths are under one user\'s home (/home/yates)', 'the daemon correctly refuses a job whose binary is missing; nothing in ciod is broken', 'the monitor should not page on job submission errors'],
  },
  {
    id: 'bgl-ciod-program-image-permission-denied',
    family: 'ciod',
    lines: [1967, 1968, 1969],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'user-error'],
    threshold: 2,
    description: 'Three job loads of stability-test programs refused with "Permission denied" on their program images within five minutes.',
    facts: ['the program images are not readable by the job (Permission denied)', 'the refused programs are test binaries (NEWS05, UMT2K) whose files lack read permission', 'ciod refuses the load as it should; no system fault'],
  },
  {
    id: 'bgl-ciod-exec-format-error',
    family: 'ciod',
    lines: [1239],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'user-error'],
    description: 'A job is refused because its program was built for another architecture (Exec format error).',
    facts: ['ciod reports "Exec format error" for allreduce.rts', 'the binary is not built for the compute nodes', 'the job submission is wrong, not the system'],
  },
  {
    id: 'bgl-ciod-program-image-too-big',
    family: 'ciod',
    lines: [1989],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'easy',
    categories: ['public-data', 'bgl', 'user-error'],
    description: 'ciod refuses a program image larger than the node\'s memory allows.',
    facts: ['the program image is 361544528 bytes, over the 266076160 limit', 'the limit is a property of the compute node', 'the user must build a smaller image; nothing to fix in ciod'],
  },
  {
    id: 'bgl-ciod-login-chdir-missing-directory',
    family: 'ciod',
    lines: [1451, 1453, 1454],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'hard',
    categories: ['public-data', 'bgl', 'user-error'],
    description: 'Job logins fail because the working directories a benchmark script asked for were never created.',
    facts: ['chdir failed with "No such file or directory", not an I/O error', 'the directories are timestamped run folders of one benchmark', 'the job script names folders that do not exist; the file system is healthy'],
  },
  {
    id: 'bgl-ciod-node-map-permission-denied',
    family: 'ciod',
    lines: [946],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'user-error'],
    description: 'ciod cannot read a user\'s node map file (Permission denied).',
    facts: ['the node map file is in a user\'s home directory', 'the error is Permission denied on that file', 'it is the user\'s file permissions, not a ciod failure'],
  },
  {
    id: 'bgl-ciod-node-map-bad-file-descriptor',
    family: 'ciod',
    lines: [623],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'hard',
    categories: ['public-data', 'bgl', 'user-error'],
    description: 'A node map file in a user project directory cannot be read: "Block device required".',
    facts: ['the node map file is in a user project directory on /p/gb2', 'the error is about that file, not about the I/O node', 'one job\'s submission is affected'],
  },
  {
    id: 'bgl-mmcs-service-action-node-card-shutdown',
    family: 'mmcs',
    lines: [1934],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'easy',
    categories: ['public-data', 'bgl', 'maintenance'],
    description: 'The hardware monitor warns that it is shutting a node card down: as part of Service Action 648.',
    facts: ['the shutdown is "part of Service Action 648"', 'PrepareForService is planned maintenance', 'the monitor should be muted during service actions'],
  },
  {
    id: 'bgl-mmcs-node-card-not-functional-during-service',
    family: 'mmcs',
    lines: [1217, 1218],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'hard',
    categories: ['public-data', 'bgl', 'inventory'],
    description: 'Discovery logs a node card status at ERROR level, then a VPD check mismatch: cards being probed, with no ALERTs active.',
    facts: ['the ERROR status line itself says no ALERTs are active', 'it comes from discovery while node cards are probed (a VPD check follows)', 'no node or job failure accompanies it'],
  },
  {
    id: 'bgl-mmcs-assembly-information-missing',
    family: 'mmcs',
    lines: [523],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'inventory'],
    description: 'Discovery cannot read assembly information for a node card: an inventory gap logged as SEVERE.',
    facts: ['the message is from discovery, which reads hardware inventory', 'missing assembly information does not stop any node or job', 'no other error accompanies it'],
  },
  {
    id: 'bgl-mmcs-idoproxy-assert-repeats',
    family: 'mmcs',
    lines: [1208, 1209, 1210, 1211, 1212, 1213],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'hard',
    categories: ['public-data', 'bgl', 'looks-like-code-bug'],
    description: 'idoproxydb logs the same ASSERT in IdoTransportMgr::SendPacket six times in three minutes; no node or job fails with it.',
    facts: ['the same ASSERT (idotransportmgr.cpp line 1043) repeats', 'it is logged by the idoproxy database process on the service node, with no node location', 'no compute, I/O or job failure accompanies it'],
  },
  {
    id: 'bgl-kernel-icache-parity-corrected',
    family: 'corrected',
    lines: [1, 2, 3, 4],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'easy',
    categories: ['public-data', 'bgl', 'corrected-error'],
    threshold: 3,
    description: 'A monitor matching "error" fires on four "instruction cache parity error corrected" lines from one node.',
    facts: ['every line says the parity error was corrected', 'they are INFO lines from one node', 'the monitor matches the word "error" in corrected-error reports; its query should exclude them'],
  },
  {
    id: 'bgl-kernel-dcache-parity-correcting',
    family: 'corrected',
    lines: [1506, 1507, 1508],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'corrected-error'],
    threshold: 2,
    description: 'Three "data cache search parity error detected. attempting to correct" lines from one node within a quarter hour.',
    facts: ['the lines are INFO and report a correction attempt', 'no FATAL follows them on that node', 'the monitor should count uncorrected errors, not corrections'],
  },
  {
    id: 'bgl-kernel-ddr-errors-corrected',
    family: 'corrected',
    lines: [370],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'easy',
    categories: ['public-data', 'bgl', 'corrected-error'],
    threshold: 0,
    description: 'One single-bit DDR error, detected and corrected, fires a monitor with a zero threshold.',
    facts: ['the line reports one ddr error detected and corrected', 'it is an INFO line', 'a zero threshold makes every corrected error an alert'],
  },
  {
    id: 'bgl-kernel-dcr-read-timeout-info',
    family: 'corrected',
    lines: [1771, 1772, 1773, 1774],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'hard',
    categories: ['public-data', 'bgl', 'looks-like-hardware-failure'],
    description: '"MACHINE CHECK DCR read timeout" repeats at INFO level on one I/O node; the node keeps running.',
    facts: ['the machine check lines are INFO, not FATAL', 'they repeat on one I/O node, R26-M0-N0-I:J18-U11', 'no job or kernel failure follows on that node'],
  },
  {
    id: 'bgl-ciod-core-files-after-job-crash',
    family: 'ciod',
    lines: [1264, 1265, 1266],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'medium',
    categories: ['public-data', 'bgl', 'user-program-crash'],
    threshold: 2,
    description: 'ciod reports 64 core files each for one checkpointing test program on three I/O nodes.',
    facts: ['the core files are for one program, sppm_chkpt, in a functional test suite', 'ciod is reporting the program\'s crash, not failing itself', 'the lines are INFO'],
  },
  {
    id: 'bgl-ciod-received-sigterm',
    family: 'ciod',
    lines: [1764],
    verdict: 'noise',
    severity: 'P3',
    difficulty: 'easy',
    categories: ['public-data', 'bgl', 'expected-behaviour'],
    description: 'ciod notes "Received signal 15" on an I/O node: a job being cancelled.',
    facts: ['signal 15 is SIGTERM, the normal way a job is cancelled', 'the lines are INFO', 'nothing failed'],
  },
];

function bglScenario(spec: BglSpec, lines: BglLine[]): TriageScenario {
  const family: Family = FAMILIES[spec.family];
  const picked = spec.lines.map((n) => {
    const line = lines[n - 1];
    if (!line) throw new Error(`${spec.id}: BGL_2k.log has no line ${n}`);
    return line;
  });
  const anchor = picked[picked.length - 1]!;
  const expectAlert = spec.verdict !== 'noise';
  const labelMismatch = picked.find((line) => (line.label !== '-') !== expectAlert);
  if (labelMismatch) throw new Error(`${spec.id}: BGL_2k.log line ${labelMismatch.lineNumber} is labelled ${labelMismatch.label}, which does not fit verdict ${spec.verdict}`);
  const at = minutesAfter(anchor.time, 1);
  const inWindow = picked.filter((line) => Date.parse(line.time) >= Date.parse(at) - 15 * 60_000);
  const nodes = [...new Set(inWindow.map((line) => line.node))];
  const threshold = spec.threshold ?? family.monitor.threshold ?? 0;
  const monitor: MonitorSpec = { ...family.monitor, threshold, query: family.monitor.query.replace(/> \d+$/, `> ${threshold}`) };
  const window = /last\("(\w+)"\)/.exec(monitor.query)?.[1] ?? '15m';
  const message = [
    `${inWindow.length} ${anchor.level} log${inWindow.length === 1 ? '' : 's'} from ${family.service} in the last ${window} (threshold ${threshold}) on ${nodes.length === 1 ? `node ${nodes[0]}` : `${nodes.length} nodes: ${nodes.join(', ')}`}.`,
    '',
    `Latest (${anchor.component} ${anchor.level}): ${anchor.content}`,
  ].join('\n');
  const label = [...new Set(picked.map((line) => line.label))].join(', ');
  return {
    id: spec.id,
    description: spec.description,
    difficulty: spec.difficulty,
    categories: spec.categories,
    provenance: {
      kind: 'public_data',
      dataset: LOGHUB,
      source: `BGL/BGL_2k.log lines ${spec.lines.join(', ')} (alert label ${label})`,
      derivation:
        `The error logs are those lines (content, node and time as logged; times read as UTC). The verdict follows the dataset's label: ` +
        `${expectAlert ? 'an alert category, so a real problem' : "'-', no action needed, though the line reads as a failure"}` +
        `${spec.verdict === 'duplicate' ? ', and the open incident it duplicates is written here' : ''}. ` +
        `Service ${family.service}, monitor, alert text and severity are written for the case by the rubric in evals/datasets/triage/README.md.`,
    },
    service: family.service,
    team: family.team,
    monitor,
    title: spec.title ?? family.title,
    ...(spec.transition ? { transition: spec.transition } : {}),
    message,
    at,
    logs: picked.map((line) => ({ at: line.time, message: `[${line.node}] ${line.component} ${line.level} ${line.content}` })),
    incidents: spec.incidents,
    verdict: spec.verdict,
    severity: spec.severity,
    duplicateOf: spec.duplicateOf,
    facts: spec.facts,
  };
}

interface HadoopSpec {
  id: string;
  lines: number[];
  severity: Severity;
  difficulty: 'easy' | 'medium' | 'hard';
  categories: string[];
  description: string;
  facts: string[];
  monitor: MonitorSpec;
  title: string;
}

const HADOOP_SERVICE = 'mr-appmaster';
const HADOOP_SPECS: HadoopSpec[] = [
  {
    id: 'hadoop-lease-renewal-fails-namenode-unreachable',
    lines: [848, 849, 850, 851, 852, 853],
    severity: 'P2',
    difficulty: 'hard',
    categories: ['public-data', 'hadoop', 'downstream-outage'],
    description: 'The MapReduce application master cannot renew its HDFS lease and sees the NameNode\'s address change: the machine was cut off the network.',
    monitor: logMonitor('7200201', HADOOP_SERVICE, 'mr-appmaster: HDFS client warnings', 'status:warn "org.apache.hadoop.hdfs"', 4, '5m'),
    title: 'mr-appmaster: HDFS client warnings',
    facts: ['the lease renewal to msra-sa-41:9000 keeps failing and retrying', '"Address change detected" shows the NameNode host cannot be reached', 'the cause is the network to the NameNode, not the application master\'s code'],
  },
  {
    id: 'hadoop-datastreamer-exception-during-partition',
    lines: [906, 907, 908, 909, 910],
    severity: 'P2',
    difficulty: 'hard',
    categories: ['public-data', 'hadoop', 'downstream-outage', 'looks-like-code-bug'],
    description: 'A DataStreamer exception and a 65-second slow read while the job history file is written, in the middle of the lease-renewal failures.',
    monitor: logMonitor('7200202', HADOOP_SERVICE, 'mr-appmaster: DFSClient exceptions', '"DFSClient" "Exception"', 0, '5m'),
    title: 'mr-appmaster: DFSClient exceptions',
    facts: ['the read of the block ack took 65020 ms against a 30000 ms threshold', 'the exceptions come while the NameNode\'s address cannot be resolved', 'the HDFS write fails because the network is partitioned, not because of the writer\'s code'],
  },
  {
    id: 'hadoop-uncaught-exception-history-writer',
    lines: [907, 1034, 1039, 1040],
    severity: 'P2',
    difficulty: 'hard',
    categories: ['public-data', 'hadoop', 'downstream-outage', 'looks-like-code-bug'],
    description: 'YarnUncaughtExceptionHandler reports a thread that threw while writing a history event: it reads like a code bug, but HDFS had been unreachable for a minute and a half.',
    monitor: logMonitor('7200203', HADOOP_SERVICE, 'mr-appmaster: uncaught exceptions', 'status:error "threw an Exception"', 0, '5m'),
    title: 'mr-appmaster: uncaught exceptions',
    facts: ['the uncaught exception is in the thread writing job history to HDFS', 'the HDFS lease had already failed to renew for 59 seconds half a minute before', 'the failure follows from the lost connection to msra-sa-41, a network fault'],
  },
  {
    id: 'hadoop-contacting-resource-manager-fails',
    lines: [1046, 1047, 1048, 1049, 1050],
    severity: 'P1',
    difficulty: 'medium',
    categories: ['public-data', 'hadoop', 'downstream-outage'],
    description: 'The application master logs "ERROR IN CONTACTING RM" while retrying msra-sa-41:8030: the ResourceManager\'s machine is off the network.',
    monitor: logMonitor('7200204', HADOOP_SERVICE, 'mr-appmaster: errors', 'status:error', 0, '5m'),
    title: 'mr-appmaster: errors',
    facts: ['the application master retries connecting to msra-sa-41:8030', 'both HDFS (9000) and the ResourceManager (8030) on msra-sa-41 are unreachable', 'the job cannot progress until the network returns; no code change in the application master fixes it'],
  },
];

function hadoopScenario(spec: HadoopSpec, lines: string[]): TriageScenario {
  const picked = spec.lines.map((n) => {
    const line = lines[n - 1];
    if (!line) throw new Error(`${spec.id}: Hadoop_2k.log has no line ${n}`);
    const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}),(\d{3}) (\w+) +(.*)$/.exec(line);
    if (!m) throw new Error(`${spec.id}: Hadoop_2k.log line ${n} is not a log4j line`);
    return { n, at: `${m[1]}T${m[2]}.${m[3]}Z`, level: m[4]!, content: m[5]! };
  });
  const anchor = picked[picked.length - 1]!;
  return {
    id: spec.id,
    description: spec.description,
    difficulty: spec.difficulty,
    categories: spec.categories,
    provenance: {
      kind: 'public_data',
      dataset: 'Loghub Hadoop (logpai/loghub; Lin et al., ICSE 2016)',
      source: `Hadoop/Hadoop_2k.log lines ${spec.lines.join(', ')}`,
      derivation:
        "The error logs are those lines as logged (times read as UTC). The sample has no per-line label; Loghub's Hadoop README says failures were injected by turning machines off and cutting them off the network, " +
        'and these lines show host msra-sa-41 unreachable, so the verdict (noise: an outage of what the service depends on, no defect in its code) is this reading of them. Monitor, alert text and severity are written for the case.',
    },
    service: HADOOP_SERVICE,
    team: 'data-platform',
    monitor: spec.monitor,
    title: spec.title,
    message: `${picked.length} ${anchor.level} logs from ${HADOOP_SERVICE} in the last 5m.\n\nLatest: ${anchor.content}`,
    at: minutesAfter(anchor.at, 1),
    logs: picked.map((line) => ({ at: line.at, message: `${line.level} ${line.content}` })),
    verdict: 'noise',
    severity: spec.severity,
    facts: spec.facts,
  };
}

export function publicTriageScenarios(loghub: string): TriageScenario[] {
  const bgl = readBgl(loghub);
  const hadoop = fs.readFileSync(path.join(loghub, 'Hadoop', 'Hadoop_2k.log'), 'utf8').split(/\r?\n/);
  return [...BGL_SPECS.map((spec) => bglScenario(spec, bgl)), ...HADOOP_SPECS.map((spec) => hadoopScenario(spec, hadoop))];
}
