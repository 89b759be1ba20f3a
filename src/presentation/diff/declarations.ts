/**
 * What two profiles declare differently, field by field of the Profile type, in words. `PROFILE_FIELDS` has one
 * entry per field of Profile: how it is compared, or why it is presentation only (a name, a citation, which
 * tests are generated). A field added to Profile does not compile until it is listed there, so a new piece of
 * semantics cannot be left out of the diff silently (test/diff-declarations.test.ts checks each entry).
 */
import type { ContentEffect, PageRules } from '../../../machines/page.ts';
import { KVM_CAP, type VmTypeName } from '../../../spec/constants.ts';
import { invariantsFor } from '../../../spec/invariants.ts';
import type { Choices, FlagAcceptance, FlagDef, Profile, VmTypeRules } from '../../../spec/profile.ts';
import { pageRulesFor } from '../diagram/static.ts';

export type Change = 'added' | 'removed' | 'changed';

export interface DeclRow {
  section:
    | 'architecture'
    | 'vm type'
    | 'flag'
    | 'choice'
    | 'capability'
    | 'attributes ioctl'
    | 'userfaultfd'
    | 'page rules'
    | 'promises'
    | 'deviations';
  name: string;
  change: Change;
  a: string;
  b: string;
}

type FieldDiff = (a: Profile, b: Profile) => DeclRow[];

/** How each field of Profile enters the declaration diff, or why it does not. */
export const PROFILE_FIELDS: { readonly [K in keyof Required<Profile>]: FieldDiff | { presentation: string } } = {
  name: { presentation: "the diff's heading names both profiles" },
  title: { presentation: "the diff's heading" },
  kind: { presentation: 'upstream / platform / proposal: a label for the README and the report' },
  summary: { presentation: 'words about the profile' },
  sources: { presentation: 'citations; each rule cites its own source, which the witnesses quote' },
  checkedAgainstKernel: { presentation: 'what CI runs the profile against, not what it predicts' },
  base: { presentation: 'which profile it is drawn and diffed against' },
  suites: { presentation: 'which tests `generate` writes, and within which bound' },
  arch: (a, b) => single('architecture', 'KVM of', a.arch, b.arch),
  vmTypes: (a, b) => {
    const types = [...new Set([...Object.keys(a.vmTypes), ...Object.keys(b.vmTypes)])] as VmTypeName[];
    return types.flatMap((t) => record('vm type', t, a.vmTypes[t], b.vmTypes[t], VM_TYPE_WORDS, vmTypeSummary));
  },
  flags: (a, b) =>
    [...new Set([...a.flags, ...b.flags].map((f) => f.name))].flatMap((f) =>
      record(
        'flag',
        f,
        flagSemantics(a.flags.find((x) => x.name === f)),
        flagSemantics(b.flags.find((x) => x.name === f)),
        FLAG_WORDS,
        flagSummary,
      ),
    ),
  choices: (a, b) => record('choice', 'choices', a.choices, b.choices, CHOICE_WORDS, () => '—'),
  extraCaps: (a, b) => {
    const caps = [...new Set([...Object.keys(a.extraCaps), ...Object.keys(b.extraCaps)].map(Number))].sort((x, y) => x - y);
    const says = (v: { kvm: number; vm?: number } | undefined) =>
      v ? `/dev/kvm ${v.kvm}${v.vm !== undefined ? `, a VM ${v.vm}` : ''} (declared)` : 'from the rules';
    return caps
      .filter((c) => JSON.stringify(a.extraCaps[c]) !== JSON.stringify(b.extraCaps[c]))
      .map((c) => ({ section: 'capability', name: capName(c), change: 'changed', a: says(a.extraCaps[c]), b: says(b.extraCaps[c]) }));
  },
  gmemAttributes: (a, b) => {
    const says = (g: Profile['gmemAttributes']) =>
      g ? `exists (cap ${g.cap}); ${g.errorOffset ? 'reports error_offset' : 'no error_offset'}` : 'absent (ENOTTY)';
    return single(
      'attributes ioctl',
      'KVM_SET_MEMORY_ATTRIBUTES2',
      says(a.gmemAttributes),
      says(b.gmemAttributes),
      a.gmemAttributes,
      b.gmemAttributes,
    );
  },
  uffd: (a, b) => {
    const says = (u: Profile['uffd']) =>
      !u
        ? 'not modelled'
        : u.registerModes.length
          ? `accepts ${u.registerModes.map((m) => m.toUpperCase()).join(', ')}`
          : 'refuses every mode (EINVAL)';
    return single('userfaultfd', 'UFFDIO_REGISTER on a guest_memfd mapping', says(a.uffd), says(b.uffd), a.uffd, b.uffd);
  },
  // The page machine's rules as each VM type both profiles have builds them, profile-wide overrides included.
  pageRuleOverrides: (a, b) =>
    (Object.keys(a.vmTypes) as VmTypeName[])
      .filter((t) => b.vmTypes[t])
      .flatMap((t) => record('page rules', t, ownPageRules(a, t), ownPageRules(b, t), PAGE_RULE_WORDS, () => '—')),
  promises: (a, b) => {
    const pa = invariantsFor(a).map((i) => i.name);
    const pb = invariantsFor(b).map((i) => i.name);
    return JSON.stringify(pa) === JSON.stringify(pb)
      ? []
      : [{ section: 'promises', name: 'invariants promised', change: 'changed', a: pa.join(', '), b: pb.join(', ') }];
  },
  deviations: (a, b) => {
    const says = (d: Profile['deviations']) => {
      if (!d) return 'none';
      const parts = [
        ...(d.skipChecks ?? []).map((c) => `skips ${c}`),
        ...(d.swapChecks ?? []).map(([x, y]) => `checks ${y} before ${x}`),
        ...(d.punchKeepsData ? ['a punched hole keeps its data'] : []),
      ];
      return parts.length ? parts.join('; ') : 'none';
    };
    return single('deviations', 'deliberate deviations (mutation harness)', says(a.deviations), says(b.deviations));
  },
};

/** The declaration diff: every field PROFILE_FIELDS compares, in its order. */
export function declarationDiff(a: Profile, b: Profile): DeclRow[] {
  return Object.values(PROFILE_FIELDS).flatMap((f) => (typeof f === 'function' ? f(a, b) : []));
}

// ---------------------------------------------------------------------------------------------------------
// Words

const yesNo = (v: boolean): string => (v ? 'yes' : 'no');
const CONTENT: Readonly<Record<ContentEffect, string>> = { preserve: 'kept', zero: 'zeroed', scramble: 'scrambled' };

function content(c: { toPrivate: ContentEffect; toShared: ContentEffect }): string {
  return `host bytes the guest reads ${CONTENT[c.toPrivate]}, guest bytes the host reads ${CONTENT[c.toShared]}`;
}

/** Each field's value in words (an optional field's words are given `undefined` when it is absent). */
type Words<T> = { readonly [K in keyof T]-?: (v: T[K]) => string };

const VM_TYPE_WORDS: Words<VmTypeRules> = {
  hasPrivateMem: (v) => `private memory ${yesNo(v)}`,
  trustedEntity: (v) => `trusted entity: ${v}`,
  privateHostAccess: (v) => `host access to private → ${v}`,
  conversion: (v) => `conversion ${v}`,
  // The content effects only: where they come from is a citation, shown in CONVERSION SEMANTICS.
  conversionContent: (v) => `on conversion, ${content(v)}`,
  populate: (v) => `populate ${v}`,
  launch: (v) => `launch flow ${yesNo(v)}`,
  trustedEntityPrepares: (v) => `trusted entity prepares private faults ${yesNo(v)}`,
  accessPrivacy: (v) => `a guest access is private by ${v === 'hardware' ? 'a hardware bit' : "KVM's attribute"}`,
};

/**
 * What of a field is compared, where not all of it is semantics, by field name in every record compared: a
 * VM type's conversionContent without its citation; keepsHostMappings absent is false.
 */
const COMPARED: Readonly<Record<string, (v: never) => unknown>> = {
  conversionContent: (c: VmTypeRules['conversionContent']) => [c.toPrivate, c.toShared],
  keepsHostMappings: (v: boolean | undefined) => v ?? false,
};

function vmTypeSummary(r: VmTypeRules): string {
  return [
    VM_TYPE_WORDS.hasPrivateMem(r.hasPrivateMem),
    VM_TYPE_WORDS.conversion(r.conversion),
    VM_TYPE_WORDS.populate(r.populate),
    VM_TYPE_WORDS.privateHostAccess(r.privateHostAccess),
  ].join(', ');
}

/** Page rules that the VM type's row does not already show (conversionContent, trustedEntityPrepares are its). */
type OwnPageRules = Omit<PageRules, 'conversionContent' | 'trustedEntityPrepares'>;

function ownPageRules(p: Profile, t: VmTypeName): OwnPageRules {
  const { conversionContent: _vm, trustedEntityPrepares: _vmToo, ...own } = pageRulesFor(p, t, 0);
  return own;
}

const PAGE_RULE_WORDS: Words<OwnPageRules> = {
  hostMayMapPrivate: (v) => `host may map private pages ${yesNo(v)}`,
  conversionChecksRefs: (v) => `conversion to private refuses referenced pages (EAGAIN) ${yesNo(v)}`,
  directMap: (v) => `direct map ${v}`,
  keepsHostMappings: (v) => `conversion to private keeps host mappings ${yesNo(v ?? false)}`,
  folio: (v) => (v ? `huge folios: ${plain(v)}` : 'no huge folios'),
};

const acceptance = (v: FlagAcceptance | undefined): string => (v === undefined ? '—' : Array.isArray(v) ? v.join(', ') : v);

/** The parts of a flag that change what it does (not its summary or source). */
type FlagSemantics = Pick<
  FlagDef,
  'bit' | 'status' | 'acceptedBy' | 'acceptedInPlaceBy' | 'requires' | 'conflictsWith' | 'effects' | 'keeps' | 'adds'
>;

function flagSemantics(f: FlagDef | undefined): FlagSemantics | undefined {
  if (!f) return undefined;
  const { bit, status, acceptedBy, acceptedInPlaceBy, requires, conflictsWith, effects, keeps, adds } = f;
  return { bit, status, acceptedBy, acceptedInPlaceBy, requires, conflictsWith, effects, keeps, adds };
}

const list = (v: readonly string[] | undefined): string => (v?.length ? v.join(', ') : 'none');

const FLAG_WORDS: Words<FlagSemantics> = {
  bit: (v) => `bit ${v}`,
  status: (v) => v,
  acceptedBy: (v) => `accepted by ${acceptance(v)}`,
  acceptedInPlaceBy: (v) => `in place by ${acceptance(v)}`,
  requires: (v) => `requires ${list(v)}`,
  conflictsWith: (v) => `conflicts with ${list(v)}`,
  effects: (v) =>
    `effects: ${
      Object.entries(v)
        .filter(([, x]) => x !== undefined && x !== false)
        .map(([k, x]) => (x === true ? k : `${k} ${String(x)}`))
        .join(', ') || 'none'
    }`,
  keeps: (v) => `keeps ${list(v)}`,
  adds: (v) => `adds ${list(v)}`,
};

function flagSummary(f: FlagSemantics): string {
  return [
    FLAG_WORDS.bit(f.bit),
    f.status,
    FLAG_WORDS.acceptedBy(f.acceptedBy),
    ...(f.acceptedInPlaceBy ? [FLAG_WORDS.acceptedInPlaceBy(f.acceptedInPlaceBy)] : []),
  ].join(', ');
}

const errnoOr = (none: string) => (v: string | null | undefined) => (v ? v : none);

const CHOICE_WORDS: Words<Choices> = {
  readErrno: (v) => `read() → ${v}`,
  writeErrno: (v) => `write() → ${v}`,
  preadErrno: (v) => `pread() → ${v}`,
  pwriteErrno: (v) => `pwrite() → ${v}`,
  ftruncateErrno: (v) => `ftruncate() → ${v}`,
  protExecErrno: (v) => `mmap(PROT_EXEC) → ${errnoOr('ok')(v)}`,
  mprotectExecErrno: (v) => `mprotect(+PROT_EXEC) → ${errnoOr('ok')(v)}`,
  createReservedChecked: (v) => `non-zero reserved words ${v ? 'refused (EINVAL)' : 'ignored'}`,
  setMemoryAttributesMissing: (v) => `KVM_SET_MEMORY_ATTRIBUTES ${v ? `missing (${v})` : 'present'}`,
  vmAttributesInPlaceErrno: (v) => `KVM_SET_MEMORY_ATTRIBUTES with attributes in place → ${errnoOr('—')(v)}`,
  // Only the advices whose outcome differs are shown (see `record`).
  madvise: (v) =>
    Object.entries(v)
      .map(([adv, o]) => `MADV_${adv.toUpperCase()} → ${o}`)
      .join(', '),
  pinRefused: (v) => `long-term pin ${v ? `refused (${v})` : 'allowed'}`,
  maxGpaBits: (v) => `guest physical addresses below 2^${v}`,
  userMemSlots: (v) => `${v} memslots`,
  addressSpaces: (v) => `${v} address space${v === 1 ? '' : 's'}`,
  readonlyMemslots: (v) => `READONLY memslots ${v ? 'accepted' : 'refused'}`,
  gmemBindingOverlapErrno: (v) => `a binding over bound pages → ${v}`,
};

function capName(cap: number): string {
  const name = Object.entries(KVM_CAP).find(([, v]) => v === cap)?.[0];
  return name ? `KVM_CAP_${name} (${cap})` : `capability ${cap}`;
}

/** A value in words when no field table names it: never JSON. */
function plain(v: unknown): string {
  if (v === undefined) return '—';
  if (typeof v === 'boolean') return yesNo(v);
  if (Array.isArray(v)) return v.map(plain).join(', ');
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('toPrivate' in o && 'toShared' in o) return content(o as { toPrivate: ContentEffect; toShared: ContentEffect });
    return Object.entries(o)
      .map(([k, x]) => `${k} ${plain(x)}`)
      .join(', ');
  }
  return String(v);
}

/** One row when the two sides' words differ: `added` / `removed` when one side declares nothing (`ra` / `rb`). */
function single(section: DeclRow['section'], name: string, a: string, b: string, ra?: unknown, rb?: unknown): DeclRow[] {
  if (a === b) return [];
  const change: Change = ra === undefined && rb !== undefined ? 'added' : rb === undefined && ra !== undefined ? 'removed' : 'changed';
  return [{ section, name, change, a, b }];
}

/** A record present in one profile only (its summary), or the fields that differ, in words (madvise: the advices that differ). */
function record<T extends object>(
  section: DeclRow['section'],
  name: string,
  a: T | undefined,
  b: T | undefined,
  words: Words<T>,
  summary: (x: T) => string,
): DeclRow[] {
  if (!a && !b) return [];
  if (!a) return [{ section, name, change: 'added', a: '—', b: summary(b as T) }];
  if (!b) return [{ section, name, change: 'removed', a: summary(a), b: '—' }];
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const key = (f: string, v: unknown) => JSON.stringify((COMPARED[f] as ((x: unknown) => unknown) | undefined)?.(v) ?? v);
  const fields = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((f) => key(f, ra[f]) !== key(f, rb[f]));
  if (!fields.length) return [];
  const say = (r: Record<string, unknown>, other: Record<string, unknown>) =>
    fields
      .map((f) => {
        const w = (words as Record<string, ((x: unknown) => string) | undefined>)[f];
        const v = f === 'madvise' ? differing(r[f] as Outcomes, other[f] as Outcomes) : r[f];
        // A field the type does not name (a profile built outside TypeScript): its name and value, still no JSON.
        return w ? w(v) : `${f} ${plain(v)}`;
      })
      .join('; ');
  return [{ section, name, change: 'changed', a: say(ra, rb), b: say(rb, ra) }];
}

type Outcomes = Readonly<Record<string, string>>;

/** The entries of an outcome map (madvise) that differ from the other side's; a missing advice succeeds. */
function differing(v: Outcomes, other: Outcomes): Outcomes {
  const keys = [...new Set([...Object.keys(v), ...Object.keys(other)])].filter((k) => v[k] !== other[k]);
  return Object.fromEntries(keys.map((k) => [k, v[k] ?? 'ok']));
}
