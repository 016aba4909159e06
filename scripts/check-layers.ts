import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * `npm test`'s layer check: dependency-cruiser with `.dependency-cruiser.cjs` over every source
 * folder, plus what a module graph cannot show by itself, a cycle between folders (api → workers →
 * api through different files is still two layers that lean on each other).
 */

export const SOURCE_FOLDERS = ['lib', 'use-cases', 'cli', 'contracts', 'domain', 'ports', 'config', 'workflows', 'activities', 'adapters', 'sandbox', 'store', 'workers', 'api', 'infra', 'scripts', 'evals', 'observability'];

interface CruisedModule {
  source: string;
  dependencies: { resolved: string; coreModule: boolean; couldNotResolve: boolean; dependencyTypes: string[] }[];
}
interface CruiseResult {
  modules: CruisedModule[];
  summary: { violations: { from: string; to: string; rule: { name: string }; cycle?: { name: string }[] }[] };
}

export interface LayerReport {
  violations: string[];
  folderCycles: string[][];
  modulesCruised: number;
}

const isTestFile = (file: string): boolean => /\.test\.ts$|\.contract\.ts$/.test(file) || file.startsWith('test/');
const folderOf = (file: string): string | null => (file.includes('/') ? file.split('/')[0]! : null);

/** Every cycle among the folders' production modules, each as the folders in order, found once. */
export function folderCycles(modules: CruisedModule[]): string[][] {
  const edges = new Map<string, Set<string>>();
  for (const module of modules) {
    const from = folderOf(module.source);
    if (!from || isTestFile(module.source)) continue;
    for (const dependency of module.dependencies) {
      if (dependency.coreModule || dependency.couldNotResolve || dependency.resolved.startsWith('node_modules/')) continue;
      if (dependency.dependencyTypes.includes('type-only')) continue;
      const to = folderOf(dependency.resolved);
      if (to && to !== from) edges.set(from, (edges.get(from) ?? new Set()).add(to));
    }
  }
  // Strongly connected components (Tarjan): each component of more than one folder is a cycle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const visit = (folder: string): void => {
    index.set(folder, next);
    low.set(folder, next++);
    stack.push(folder);
    onStack.add(folder);
    for (const to of edges.get(folder) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(folder, Math.min(low.get(folder)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(folder, Math.min(low.get(folder)!, index.get(to)!));
    }
    if (low.get(folder) === index.get(folder)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== folder);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const folder of [...edges.keys()].sort()) if (!index.has(folder)) visit(folder);
  return components;
}

/** Runs dependency-cruiser in `cwd` over `folders` (those that exist) and reads its JSON answer. */
export function checkLayers(cwd: string, folders: string[], configFile = path.join(__dirname, '..', '.dependency-cruiser.cjs')): LayerReport {
  const existing = folders.filter((folder) => fs.existsSync(path.join(cwd, folder)));
  const depcruise = path.join(__dirname, '..', 'node_modules', '.bin', 'depcruise');
  const run = spawnSync(depcruise, ['--config', configFile, '--output-type', 'json', ...existing], { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (run.error) throw run.error;
  if (!run.stdout.trim().startsWith('{')) throw new Error(`dependency-cruiser failed (exit ${run.status}): ${run.stderr || run.stdout}`);
  const result = JSON.parse(run.stdout) as CruiseResult;
  const violations = result.summary.violations.map((v) =>
    v.cycle ? `${v.rule.name}: ${v.from} → ${v.cycle.map((step) => step.name).join(' → ')}` : `${v.rule.name}: ${v.from} → ${v.to}`,
  );
  return { violations, folderCycles: folderCycles(result.modules), modulesCruised: result.modules.length };
}

if (require.main === module) {
  const report = checkLayers(path.join(__dirname, '..'), SOURCE_FOLDERS);
  for (const violation of report.violations) console.error(`layers: ${violation}`);
  for (const cycle of report.folderCycles) console.error(`layers: folder-cycle: ${cycle.join(' ↔ ')} import each other`);
  const problems = report.violations.length + report.folderCycles.length;
  console.error(`layers: ${report.modulesCruised} modules, ${problems === 0 ? 'every rule holds' : `${problems} problem(s)`} (rules: .dependency-cruiser.cjs)`);
  process.exit(problems === 0 ? 0 : 1);
}
