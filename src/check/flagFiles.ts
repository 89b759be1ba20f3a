/**
 * Loading the flags given to `gmem-spec check --flag F`: a built-in flag name (spec/flags), or a flag file —
 * `.json` (one flag object or a list), or `.ts`/`.mts` (a default export, or named exports, of flag objects).
 * A TypeScript flag file is type-checked against FlagDef first, in context (a wrapper assigns its exports to
 * FlagDef, so the file needs no annotation); then every flag is validated against the profile
 * (spec/flagValidation.ts) when it is composed. Errors name the file, the line and the field.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type JsonValue, JsonSyntaxError, parseJson } from '../../spec/json.ts';
import { BUILTIN_FLAGS } from '../../spec/flags/index.ts';
import type { FlagDef } from '../../spec/profile.ts';

export class FlagFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: ${problems.length === 1 ? problems[0] : `\n${problems.map((p) => `  ${p}`).join('\n')}`}`);
    this.name = 'FlagFileError';
  }
}

export interface LoadedFlag {
  def: FlagDef;
  /** `built-in` or the file it came from (as given). */
  source: string;
  builtin: boolean;
}

const SPEC_PROFILE = fileURLToPath(new URL('../../spec/profile.ts', import.meta.url));

function looksLikeFlag(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'name' in v && 'bit' in v;
}

function flagsFromValue(v: unknown, source: string): unknown[] {
  if (Array.isArray(v)) {
    if (!v.length) throw new FlagFileError(source, ['the file defines an empty list of flags']);
    return v;
  }
  return [v];
}

/** JSON numbers past 2^53 arrive as bigint; a flag's fields never need them, so show them as numbers. */
function plain(v: JsonValue): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

export function loadJsonFlags(path: string, source = path): unknown[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FlagFileError(source, [`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  let doc: JsonValue;
  try {
    doc = parseJson(text);
  } catch (e) {
    throw new FlagFileError(source, [`not valid JSON: ${e instanceof JsonSyntaxError ? e.message : String(e)}`]);
  }
  return flagsFromValue(plain(doc), source);
}

/**
 * Type-check a TypeScript flag file against FlagDef: its own code under the project's strict settings, and
 * its exports assigned to FlagDef. Returns diagnostics as `file:line:col: message`; [] when it type-checks.
 * Skipped (returns []) when the TypeScript compiler is not installed: validation still checks the data.
 */
export async function typeCheckFlagFile(path: string): Promise<string[]> {
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default;
  } catch {
    return [];
  }
  const abs = resolve(path);
  const wrapper = resolve(dirname(abs), `__gmem_flag_check_${process.pid}.ts`);
  const rel = `./${relative(dirname(abs), abs).replaceAll('\\', '/')}`;
  const specRel = relative(dirname(abs), SPEC_PROFILE).replaceAll('\\', '/');
  const wrapperText = [
    `import type { FlagDef } from '${specRel.startsWith('.') ? specRel : `./${specRel}`}';`,
    `import * as m from '${rel}';`,
    `type Exported = typeof m extends { default: infer D } ? D : (typeof m)[keyof typeof m];`,
    `const check: FlagDef | readonly FlagDef[] = null as unknown as Exported;`,
    `void check;`,
  ].join('\n');
  const options: import('typescript').CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    types: [],
    // FlagDef needs no more than ES5's types; the smallest lib keeps the check fast.
    lib: ['lib.es5.d.ts'],
    exactOptionalPropertyTypes: false,
    noUncheckedIndexedAccess: true,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (f) => (resolve(f) === wrapper ? wrapperText : readFile(f));
  host.fileExists = (f) => resolve(f) === wrapper || fileExists(f);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, onError, create) =>
    resolve(f) === wrapper ? ts.createSourceFile(f, wrapperText, lang) : getSourceFile(f, lang, onError, create);
  // The spec's types reach machines/page.ts, which imports xstate: FlagDef needs none of it, so xstate (and any
  // other package) resolves to an empty stub instead of its large declaration files.
  const stub = resolve(dirname(abs), `__gmem_flag_stub_${process.pid}.d.ts`);
  const stubText = 'declare const anything: any;\nexport = anything;\n';
  const readFile2 = host.readFile;
  host.readFile = (f) => (resolve(f) === stub ? stubText : readFile2(f));
  const fileExists2 = host.fileExists;
  host.fileExists = (f) => resolve(f) === stub || fileExists2(f);
  const getSourceFile2 = host.getSourceFile;
  host.getSourceFile = (f, lang, onError, create) =>
    resolve(f) === stub ? ts.createSourceFile(f, stubText, lang) : getSourceFile2(f, lang, onError, create);
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, opts) =>
    literals.map((lit) => {
      const name = lit.text;
      if (!name.startsWith('.') && !isAbsolute(name))
        return { resolvedModule: { resolvedFileName: stub, extension: ts.Extension.Dts, isExternalLibraryImport: false } };
      return ts.resolveModuleName(name, containingFile, opts, host, undefined, redirected);
    });
  const program = ts.createProgram([abs, wrapper], options, host);
  const mine = [program.getSourceFile(abs), program.getSourceFile(wrapper)].filter(
    (f): f is import('typescript').SourceFile => f !== undefined,
  );
  const diags = [
    ...program.getOptionsDiagnostics(),
    ...mine.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ];
  return diags.map((d) => {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n    ');
    if (!d.file) return msg;
    const inWrapper = resolve(d.file.fileName) === wrapper;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    return inWrapper
      ? `the file's exports are not flag definitions (FlagDef): ${msg}`
      : `${relative(process.cwd(), d.file.fileName)}:${line + 1}:${character + 1}: ${msg}`;
  });
}

export async function loadTsFlags(path: string, source = path, options: { typeCheck?: boolean } = {}): Promise<unknown[]> {
  if (!existsSync(path)) throw new FlagFileError(source, ['no such file']);
  if (options.typeCheck !== false) {
    const diags = await typeCheckFlagFile(path);
    if (diags.length) throw new FlagFileError(source, [`does not type-check as a flag definition:`, ...diags]);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (e) {
    throw new FlagFileError(source, [`cannot load: ${(e as Error).message}`]);
  }
  if (mod.default !== undefined) return flagsFromValue(mod.default, source);
  const named = Object.values(mod).filter(looksLikeFlag);
  if (!named.length)
    throw new FlagFileError(source, ['exports no flag definition (export default { name, bit, ... } or export const FLAG: FlagDef = ...)']);
  return named;
}

/** The flags one `--flag` argument stands for. Definitions are not validated here (compose does that). */
export async function loadFlagArg(arg: string, options: { typeCheck?: boolean } = {}): Promise<LoadedFlag[]> {
  const builtin = BUILTIN_FLAGS[arg];
  const ext = extname(arg).toLowerCase();
  if (builtin && !existsSync(arg)) return [{ def: builtin, source: 'built-in', builtin: true }];
  if (ext === '.json') return loadJsonFlags(arg).map((def) => ({ def: def as FlagDef, source: arg, builtin: false }));
  if (ext === '.ts' || ext === '.mts')
    return (await loadTsFlags(arg, arg, options)).map((def) => ({ def: def as FlagDef, source: arg, builtin: false }));
  const upper = arg.toUpperCase().replace(/^GUEST_MEMFD_FLAG_/, '');
  const hint = BUILTIN_FLAGS[upper] ? ` (did you mean ${upper}?)` : '';
  throw new FlagFileError(arg, [
    `unknown flag${hint}: not a built-in flag (${Object.keys(BUILTIN_FLAGS).join(', ')}) nor a flag file (.ts, .mts or .json)${existsSync(arg) ? '' : isAbsolute(arg) || arg.includes('/') ? '; no such file' : ''}`,
  ]);
}
