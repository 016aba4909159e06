import { pathToFileURL } from 'node:url';
import * as vm from 'node:vm';

type Importer = (url: string) => Promise<unknown>;

// Compiled by the Function constructor so that no TypeScript or swc transform rewrites it into require().
const plainImport = new Function('url', 'return import(url)') as Importer;
let mainContextImport: Importer | undefined;

/**
 * Loads an ES-module-only package (all of Octokit) from this CommonJS code base. Under tsx, as Steward
 * runs, a plain import() does. Jest runs each test file in a vm context, where import() rejects unless
 * node runs with --experimental-vm-modules, and jest's own require() refuses ES modules; there the
 * module is loaded by node's main-context loader instead (which makes node warn once that this vm
 * option is experimental). Objects from it then belong to the main realm: `instanceof Error` is false
 * for its errors inside jest, so callers read errors by their fields.
 */
export async function importEsModule<Module>(specifier: string): Promise<Module> {
  // An absolute URL, so that the import resolves the same wherever the process was started.
  const url = pathToFileURL(require.resolve(specifier)).href;
  try {
    return (await plainImport(url)) as Module;
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG') throw error;
    mainContextImport ??= new vm.Script('(url) => import(url)', { importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }).runInThisContext() as Importer;
    return (await mainContextImport(url)) as Module;
  }
}
