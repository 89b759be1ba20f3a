/**
 * Reading the machine's own apt sources (pure): which Debian mirror to ask for the newer suites. The lab never
 * writes a host name of its own; it reuses the URI (and keyring) the machine already trusts.
 * Both formats: one-line `deb [opts] URI SUITE COMPONENTS...` (sources.list, *.list) and deb822 (*.sources).
 */

export interface AptSourceEntry {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  signedBy?: string;
  enabled: boolean;
}

/** One-line format. Unparseable lines are skipped (apt itself would complain about them, not us). */
export function parseOneLineSources(text: string): AptSourceEntry[] {
  const out: AptSourceEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const options = new Map(
      (m[2] ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .map((o) => {
          const eq = o.indexOf('=');
          return [eq > 0 ? o.slice(0, eq) : o, eq > 0 ? o.slice(eq + 1) : ''] as const;
        }),
    );
    const signedBy = options.get('signed-by');
    out.push({
      types: [m[1] as string],
      uris: [m[3] as string],
      suites: [m[4] as string],
      components: (m[5] ?? '').split(/\s+/).filter(Boolean),
      ...(signedBy ? { signedBy } : {}),
      enabled: true,
    });
  }
  return out;
}

/** deb822 format: paragraphs of `Field: value`, continuation lines start with a space. */
export function parseDeb822Sources(text: string): AptSourceEntry[] {
  const out: AptSourceEntry[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of para.split('\n')) {
      if (line.startsWith('#')) continue;
      if (/^\s/.test(line) && last) {
        fields.set(last, `${fields.get(last)}\n${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (!m) continue;
      last = (m[1] as string).toLowerCase();
      fields.set(last, (m[2] as string).trim());
    }
    if (!fields.has('uris')) continue;
    const words = (k: string): string[] => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    const signedBy = fields.get('signed-by');
    out.push({
      types: words('types'),
      uris: words('uris'),
      suites: words('suites'),
      components: words('components'),
      // An embedded key block is not a path; only a keyring path can be passed on.
      ...(signedBy?.startsWith('/') && !signedBy.includes('\n') ? { signedBy } : {}),
      enabled: !/^(no|false|0)$/i.test(fields.get('enabled') ?? 'yes'),
    });
  }
  return out;
}

export interface DebianMirror {
  uri: string;
  signedBy?: string;
}

/**
 * The machine's Debian archive mirrors: enabled `deb` entries with component `main` and a suite that is a
 * release (not `-security`, whose archive holds no kernel source). First seen first; duplicates dropped.
 */
export function debianMirrors(entries: readonly AptSourceEntry[]): DebianMirror[] {
  const out: DebianMirror[] = [];
  for (const e of entries) {
    if (!e.enabled || !e.types.includes('deb') || !e.components.includes('main')) continue;
    if (!e.suites.some((s) => !s.endsWith('-security') && !s.includes('/'))) continue;
    for (const uri of e.uris) {
      if (!/^(https?|file):/.test(uri) || out.some((m) => m.uri === uri)) continue;
      out.push({ uri, ...(e.signedBy ? { signedBy: e.signedBy } : {}) });
    }
  }
  return out;
}

/** The suites asked for linux-source-<series>, in order: the stable backports first, then newer suites. */
export const LAB_SUITES = ['trixie-backports', 'forky', 'sid', 'trixie'] as const;

/** A private one-line sources list asking one suite of one mirror. */
export function privateSourcesList(mirror: DebianMirror, suite: string, fallbackKeyring: string): string {
  return `deb [signed-by=${mirror.signedBy ?? fallbackKeyring}] ${mirror.uri} ${suite} main\n`;
}

export interface AptPackageVersion {
  version: string;
  filename: string;
  size: number;
}

/** `apt-cache show` paragraphs -> the versions listed (apt prints the highest first). */
export function parseAptCacheShow(text: string): AptPackageVersion[] {
  const out: AptPackageVersion[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const field = (name: string): string | undefined => new RegExp(`^${name}: (.*)$`, 'm').exec(para)?.[1]?.trim();
    const version = field('Version');
    const filename = field('Filename');
    if (version && filename) out.push({ version, filename, size: Number(field('Size') ?? 0) });
  }
  return out;
}

/** The version in a downloaded package's file name: `linux-source-7.3_7.3.4-1~bpo13+1_all.deb` -> `7.3.4-1~bpo13+1`. */
export function debFileVersion(file: string, pkg: string): string | undefined {
  const m = new RegExp(`^${pkg.replace(/[.+]/g, '\\$&')}_([^_]+)_[a-z0-9]+\\.deb$`).exec(file);
  return m ? decodeURIComponent(m[1] as string) : undefined;
}
