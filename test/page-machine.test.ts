/** The page machine as the ABI documentation tells it: each test a small story on one page. */
import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { type ContentEffect, type PageEvent, type PageRules, SCRAMBLED, UPSTREAM_PAGE_RULES, createPageMachine } from '../machines/page.ts';

function story(rules: PageRules, initShared: boolean, events: PageEvent[]) {
  const m = createPageMachine(rules);
  let [s] = initialTransition(m, { initShared });
  const refused: string[] = [];
  for (const e of events) {
    if (!s.can(e)) refused.push(e.type);
    else [s] = transition(m, s, e);
  }
  return { value: s.value as Record<string, string>, context: s.context, refused };
}

const R = UPSTREAM_PAGE_RULES;

describe('page machine', () => {
  it('a page starts shared under INIT_SHARED and private without it', () => {
    expect(story(R, true, []).value.attribute).toBe('shared');
    expect(story(R, false, []).value.attribute).toBe('private');
  });

  it('a host fault on a shared hole zeroes the page and maps it for that mapping only', () => {
    const s = story(R, true, [{ type: 'HOST_FAULT', mapper: 3 }]);
    expect(s.value).toMatchObject({ backing: 'initialised', hostMapping: 'mapped' });
    expect(s.context.hostMappers).toEqual([3]);
    expect(s.context.content).toBe(0);
  });

  it('a host fault on a private page is refused (the rule layer turns it into SIGBUS)', () => {
    const s = story(R, false, [{ type: 'ALLOCATE' }, { type: 'HOST_FAULT', mapper: 0 }]);
    expect(s.refused).toEqual(['HOST_FAULT']);
    expect(s.value).toMatchObject({ backing: 'allocated', hostMapping: 'unmapped' });
  });

  it('fallocate allocates without zeroing; the first use zeroes', () => {
    const s = story(R, true, [{ type: 'ALLOCATE' }]);
    expect(s.value.backing).toBe('allocated');
    expect(story(R, true, [{ type: 'ALLOCATE' }, { type: 'HOST_FAULT', mapper: 0 }]).value.backing).toBe('initialised');
  });

  it('punch drops the folio: content back to zero, host PTEs and pins gone, attribute kept', () => {
    const s = story(R, true, [{ type: 'HOST_FAULT', mapper: 0 }, { type: 'HOST_FILL', value: 9 }, { type: 'PIN' }, { type: 'PUNCH' }]);
    expect(s.value).toMatchObject({ attribute: 'shared', backing: 'hole', hostMapping: 'unmapped', pins: 'unpinned' });
    expect(s.context).toMatchObject({ content: 0, hostMappers: [], pins: 0 });
  });

  it('conversion to private zaps every host mapping and commits when no one else holds the page', () => {
    const s = story(R, true, [
      { type: 'HOST_FAULT', mapper: 0 },
      { type: 'HOST_FAULT', mapper: 1 },
      { type: 'CONVERT_BEGIN', to: 'private' },
      { type: 'CONVERT_COMMIT' },
    ]);
    expect(s.value).toMatchObject({ attribute: 'private', hostMapping: 'unmapped' });
    expect(s.refused).toEqual([]);
  });

  it('a pinned page cannot commit to private: it stays in transition until aborted (EAGAIN)', () => {
    const s = story(R, true, [
      { type: 'HOST_FAULT', mapper: 0 },
      { type: 'PIN' },
      { type: 'CONVERT_BEGIN', to: 'private' },
      { type: 'CONVERT_COMMIT' },
    ]);
    expect(s.refused).toEqual(['CONVERT_COMMIT']);
    expect(s.value.attribute).toBe('toPrivate');
    expect(
      story(R, true, [
        { type: 'HOST_FAULT', mapper: 0 },
        { type: 'PIN' },
        { type: 'CONVERT_BEGIN', to: 'private' },
        { type: 'CONVERT_ABORT' },
      ]).value.attribute,
    ).toBe('shared');
  });

  it('a profile that ignores references lets a pinned page become private (the unsafe proposal)', () => {
    const s = story({ ...R, conversionChecksRefs: false }, true, [
      { type: 'HOST_FAULT', mapper: 0 },
      { type: 'PIN' },
      { type: 'CONVERT_BEGIN', to: 'private' },
      { type: 'CONVERT_COMMIT' },
    ]);
    expect(s.value).toMatchObject({ attribute: 'private', pins: 'pinned' });
  });

  it('conversion itself keeps the bytes; the trusted entity taking the page decides what the guest reads; a hole stays zero', () => {
    const tookIt = (e: ContentEffect) =>
      story({ ...R, trustedEntityPrepares: true, conversionContent: { toPrivate: e, toShared: 'preserve' } }, true, [
        { type: 'HOST_FAULT', mapper: 0 },
        { type: 'HOST_FILL', value: 7 },
        { type: 'CONVERT_BEGIN', to: 'private' },
        { type: 'CONVERT_COMMIT' },
      ]);
    // Committed private, not yet taken by the trusted entity: the bytes are the host's still (populate in place reads them).
    expect(tookIt('scramble').context.content).toBe(7);
    const guestReads = (e: ContentEffect) =>
      story({ ...R, trustedEntityPrepares: true, conversionContent: { toPrivate: e, toShared: 'preserve' } }, true, [
        { type: 'HOST_FAULT', mapper: 0 },
        { type: 'HOST_FILL', value: 7 },
        { type: 'CONVERT_BEGIN', to: 'private' },
        { type: 'CONVERT_COMMIT' },
        { type: 'GUEST_MAP', private: true },
      ]).context.content;
    expect(guestReads('preserve')).toBe(7);
    expect(guestReads('zero')).toBe(0);
    expect(guestReads('scramble')).toBe(SCRAMBLED);
    // Populate in place (no value) takes the page with the host's bytes; the trusted entity then holds it populated.
    const populated = story(
      { ...R, trustedEntityPrepares: true, conversionContent: { toPrivate: 'scramble', toShared: 'scramble' } },
      true,
      [
        { type: 'HOST_FAULT', mapper: 0 },
        { type: 'HOST_WRITE', offset: 3, value: 9 },
        { type: 'CONVERT_BEGIN', to: 'private' },
        { type: 'CONVERT_COMMIT' },
        { type: 'POPULATE' },
        { type: 'GUEST_MAP', private: true },
      ],
    );
    expect(populated.context).toMatchObject({ content: 0, bytes: { '3': 9 } });
    // Given back (to shared), the host reads what the platform leaves of them.
    const back = story({ ...R, trustedEntityPrepares: true, conversionContent: { toPrivate: 'scramble', toShared: 'scramble' } }, true, [
      { type: 'HOST_FAULT', mapper: 0 },
      { type: 'HOST_WRITE', offset: 3, value: 9 },
      { type: 'CONVERT_BEGIN', to: 'private' },
      { type: 'CONVERT_COMMIT' },
      { type: 'POPULATE' },
      { type: 'CONVERT_BEGIN', to: 'shared' },
      { type: 'CONVERT_COMMIT' },
    ]);
    expect(back.context.content).toBe(SCRAMBLED);
    expect(
      story({ ...R, conversionContent: { toPrivate: 'scramble', toShared: 'scramble' } }, true, [
        { type: 'CONVERT_BEGIN', to: 'private' },
        { type: 'CONVERT_COMMIT' },
      ]).context.content,
    ).toBe(0);
  });

  it('a private guest fault lets the trusted entity prepare the page, and conversion to shared releases it', () => {
    const rules = { ...R, trustedEntityPrepares: true };
    const s = story(rules, false, [{ type: 'GUEST_MAP', private: true }]);
    expect(s.value).toMatchObject({ trustedEntity: 'prepared', stage2: 'private', backing: 'initialised' });
    const back = story(rules, false, [
      { type: 'GUEST_MAP', private: true },
      { type: 'CONVERT_BEGIN', to: 'shared' },
      { type: 'CONVERT_COMMIT' },
    ]);
    expect(back.value).toMatchObject({ attribute: 'shared', trustedEntity: 'unprepared', stage2: 'none' });
  });

  it('NO_DIRECT_MAP removes an allocated folio from the direct map and restores it when freed', () => {
    const rules: PageRules = { ...R, directMap: 'remove-all' };
    expect(story(rules, true, [{ type: 'ALLOCATE' }]).value.directMap).toBe('removed');
    expect(story(rules, true, [{ type: 'ALLOCATE' }, { type: 'PUNCH' }]).value.directMap).toBe('present');
    expect(story(R, true, [{ type: 'ALLOCATE' }]).value.directMap).toBe('present');
  });

  it('host mapping counts mappings: the page is unmapped only when the last one goes', () => {
    const s = story(R, true, [
      { type: 'HOST_FAULT', mapper: 0 },
      { type: 'HOST_FAULT', mapper: 1 },
      { type: 'HOST_UNMAP', mapper: 0 },
    ]);
    expect(s.value.hostMapping).toBe('mapped');
    expect(s.context.hostMappers).toEqual([1]);
    expect(
      story(R, true, [
        { type: 'HOST_FAULT', mapper: 0 },
        { type: 'HOST_UNMAP', mapper: 0 },
      ]).value.hostMapping,
    ).toBe('unmapped');
  });
});
