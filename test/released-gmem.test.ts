/**
 * Issue 14, "a guest fault on a guest_memfd-only memslot whose file was released": kernel-abi.md §2.12 says the
 * gmem lookup fails and KVM_RUN returns EFAULT with KVM_EXIT_MEMORY_FAULT; the lab kernel (7.3.4) does exactly
 * that (examples/corpus/{linux-7.3,sw-protected}/released--*.json, recorded by scripts/build-lab-corpus.ts and
 * checked against the kernel by test/corpus-lab.test.ts). The model before 3ea2a66 served the fault from
 * userspace_addr (`guest_access.shared-uaddr`, access ok). And the lifecycle diagram says so and shows it.
 */
import { describe, expect, it } from 'vitest';
import { RELEASED_LINUX_7_3, RELEASED_SW_PROTECTED } from '../examples/corpus/scenarios-released.ts';
import { predictTrace } from '../spec/compare.ts';
import type { Scenario } from '../examples/corpus/scenarios.ts';
import { getProfile } from '../spec/profiles/index.ts';
import { buildDiagram } from '../src/presentation/diagram/index.ts';

function scenario(list: readonly Scenario[], name: string): Scenario {
  const s = list.find((x) => x.name === name);
  if (!s) throw new Error(`no scenario ${name}`);
  return s;
}

describe('a guest fault on a GMEM_ONLY slot whose guest_memfd was released', () => {
  for (const [profile, list] of [
    ['linux-7.3', RELEASED_LINUX_7_3],
    ['sw-protected', RELEASED_SW_PROTECTED],
  ] as const) {
    it(`${profile}: closing the only reference releases the file; the next shared fault is a memory-fault exit, pre-fault EFAULT`, () => {
      const s = scenario(list, 'released--gmem-only-closed');
      const r = predictTrace(getProfile(profile), s.steps);
      expect(r[6]?.outcome).toEqual({ exit: 'MEMORY_FAULT', private: false });
      expect(r[6]?.rule.id).toBe('guest_access.gmem-gone');
      expect(r[7]?.outcome).toEqual({ exit: 'MEMORY_FAULT', private: false });
      expect(r[8]?.outcome).toEqual({ errno: 'EFAULT' });
    });

    it(`${profile}: a mapping holds the file, so the fault is served until munmap releases it`, () => {
      const s = scenario(list, 'released--gmem-only-mapped-then-unmapped');
      const r = predictTrace(getProfile(profile), s.steps);
      expect(r[7]?.outcome).toMatchObject({ access: 'ok' });
      expect(r[9]?.outcome).toEqual({ exit: 'MEMORY_FAULT', private: false });
      expect(r[10]?.outcome).toEqual({ errno: 'EFAULT' });
    });
  }
});

describe('the guest_memfd lifecycle diagram', () => {
  const d = buildDiagram(getProfile('sw-protected'), 'guestMemfd');
  it('says memslot bindings do not hold the file (§2.13)', () => {
    const words = d.subtitle.join(' ');
    expect(words).not.toMatch(/memslot bindings hold the file/);
    expect(words).toMatch(/memslot bindings do not/);
  });

  it('its bounded search closes the fd: release is taken, and a guest fault after it is a memory-fault exit', () => {
    const toReleased = d.edges.filter((e) => e.kind !== 'error' && e.to.endsWith('released'));
    expect(toReleased.map((e) => `${e.op}: ${e.status}`)).toContain('close(fd): normal');
    const fault = d.edges.find((e) => e.kind === 'error' && e.from.endsWith('released'));
    expect(fault?.errno).toBe('KVM_EXIT_MEMORY_FAULT');
  });
});
