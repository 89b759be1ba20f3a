/**
 * The HTML report in a real browser: Debian's chromium (scripts/setup-debian.sh installs it), driven by
 * playwright-core, opens the report from disk (file://, no server, no network), and every diagram must have
 * rendered — an inline SVG with the expected number of nodes — with no console errors and no request leaving
 * the disk. A screenshot is saved to out/artifacts/report.png. Without chromium the test says why and is skipped.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PROFILES } from '../spec/profiles/index.ts';
import { writeReport } from '../src/presentation/report/site.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.log(`SKIP: no chromium (${CHROMIUM} is missing; run scripts/setup-debian.sh)`);

const OUT = resolve('out/test-report');
/** The page width the report must fit (issue 14): no horizontal scrolling, no element wider than the window. */
const WIDTH = 1500;
const ARTIFACTS = resolve('out/artifacts');
let profileDir: string | undefined;

afterAll(() => {
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('report in headless Chromium', () => {
  it('renders every diagram of every page from disk, with no console errors and no network, and fits a 1,500 px window', async () => {
    const summary = await writeReport({ out: OUT, maxDepth: 7 });
    // An index page and one page per profile.
    expect(summary.pages).toBe(PROFILES.length + 1);
    expect(existsSync(join(OUT, 'index.html'))).toBe(true);
    expect(readdirSync(resolve(OUT, '..')).some((f) => f.includes('.tmp-'))).toBe(false);

    const { chromium } = await import('playwright-core');
    profileDir = mkdtempSync(join(tmpdir(), 'gmem-chromium-'));
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: WIDTH, height: 1000 },
    });
    const problems: string[] = [];
    const offDisk: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://') || url.startsWith('data:') || url.startsWith('about:')) return route.continue();
      offDisk.push(url);
      return route.abort();
    });
    try {
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
      const pages = [
        'index.html',
        ...readdirSync(join(OUT, 'profiles'))
          .filter((f) => f.endsWith('.html'))
          .map((f) => `profiles/${f}`),
      ];
      expect(pages).toHaveLength(PROFILES.length + 1);
      let figures = 0;
      for (const p of pages) {
        await page.goto(pathToFileURL(join(OUT, p)).href);
        const result = await page.$$eval('figure.diagram', (els) =>
          els.map((el) => ({
            name: el.getAttribute('data-diagram'),
            expected: Number(el.getAttribute('data-expected-nodes')),
            svg: el.querySelector('svg') !== null,
            nodes: el.querySelectorAll('svg g.node').length,
            width:
              (el.querySelector('svg') as unknown as { getBoundingClientRect(): { width: number } } | null)?.getBoundingClientRect()
                .width ?? 0,
          })),
        );
        // Every figure the writer put in the file is in the DOM (4 machine diagrams per profile at least).
        const inFile = (readFileSync(join(OUT, p), 'utf8').match(/<figure class="diagram/g) ?? []).length;
        expect(result.length, p).toBe(inFile);
        if (p !== 'index.html') expect(result.length, p).toBeGreaterThanOrEqual(4);
        for (const f of result) {
          expect(f.svg, `${p} ${f.name}: no SVG`).toBe(true);
          expect(f.nodes, `${p} ${f.name}: node count`).toBe(f.expected);
          expect(f.width, `${p} ${f.name}: not laid out`).toBeGreaterThan(50);
        }
        figures += result.length;
        // Nothing is wider than the window: the page does not scroll sideways, and no element pokes out.
        const fit = await page.evaluate(() => {
          const d = globalThis as unknown as {
            document: {
              scrollingElement: { scrollWidth: number };
              documentElement: { clientWidth: number };
              querySelectorAll(s: string): ArrayLike<{ tagName: string; getBoundingClientRect(): { right: number; width: number } }>;
            };
          };
          const view = d.document.documentElement.clientWidth;
          const wide = Array.from(d.document.querySelectorAll('body *'))
            .filter((el) => el.getBoundingClientRect().right > view + 0.5 || el.getBoundingClientRect().width > view + 0.5)
            .slice(0, 5)
            .map((el) => `${el.tagName.toLowerCase()} ${Math.round(el.getBoundingClientRect().right)}px`);
          return { scrollWidth: d.document.scrollingElement.scrollWidth, view, wide };
        });
        expect(fit.scrollWidth, `${p}: scrolls sideways`).toBeLessThanOrEqual(WIDTH);
        expect(fit.scrollWidth, `${p}: wider than the window`).toBeLessThanOrEqual(fit.view);
        expect(fit.wide, `${p}: elements wider than the ${fit.view}px window`).toEqual([]);
        if (p === 'profiles/inplace-conversion.html') {
          mkdirSync(ARTIFACTS, { recursive: true });
          await page.screenshot({ path: join(ARTIFACTS, 'report.png') });
          const links = await page.$$eval('a[href]', (as) => as.map((a) => (a as unknown as { href: string }).href));
          expect(links.every((h) => h.startsWith('file://'))).toBe(true);
        }
      }
      expect(figures).toBeGreaterThan(100);

      // The README's Mermaid diagrams render (not only parse) with the mermaid package's own browser bundle.
      const mermaidJs = resolve('node_modules/mermaid/dist/mermaid.min.js');
      const sources = ['docs/diagrams/linux-6.18-page.mmd', 'docs/diagrams/diff-linux-6.18-inplace-conversion.mmd'].map((f) =>
        readFileSync(f, 'utf8'),
      );
      const harness = join(profileDir, 'mermaid.html');
      writeFileSync(
        harness,
        `<!DOCTYPE html><html><head><meta charset="utf-8"><script src="${pathToFileURL(mermaidJs).href}"></script></head><body><div id="out"></div></body></html>`,
      );
      await page.goto(pathToFileURL(harness).href);
      const rendered = await page.evaluate(async (texts) => {
        const m = (
          globalThis as unknown as { mermaid: { initialize(o: object): void; render(id: string, t: string): Promise<{ svg: string }> } }
        ).mermaid;
        m.initialize({ startOnLoad: false });
        const out: string[] = [];
        for (const [i, t] of texts.entries()) {
          try {
            const r = await m.render(`readme${i}`, t);
            out.push(r.svg.includes('<svg') ? 'ok' : 'no svg');
          } catch (e) {
            out.push(`error: ${(e as Error).message}`);
          }
        }
        return out;
      }, sources);
      expect(rendered).toEqual(['ok', 'ok']);
      expect(problems).toEqual([]);
      expect(offDisk).toEqual([]);
      expect(existsSync(join(ARTIFACTS, 'report.png'))).toBe(true);
    } finally {
      await context.close();
    }
  }, 120_000);
});
