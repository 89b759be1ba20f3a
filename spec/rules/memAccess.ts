/**
 * Host user-space accesses through a guest_memfd mapping, and long-term pins (kernel-abi.md §2.5).
 * An access outside any mapping or against its protection is SIGSEGV; at or past EOF it is SIGBUS; a fault on a
 * page the page machine refuses (private, per the profile) is the platform's signal; otherwise the page is
 * faulted in (zeroed on first use) and read or written.
 */
import type { CheckMemOp, FillMemOp, Outcome, PinOp, ReadMemOp, StepMeta, UnpinOp, WriteMemOp } from '../ops.ts';
import type { MapState } from '../state.ts';
import type { World } from '../world.ts';
import { type Decision, PAGE, s64, success, u64 } from './decision.ts';
import { userfault } from './uffd.ts';

export type Access = 'read' | 'write';

export interface Fault {
  outcome: Outcome;
  id: string;
  says: string;
  cite: string;
}

function protAllows(prot: string, access: Access): boolean {
  if (prot === 'none') return false;
  // x86: any accessible mapping is readable (PROT_WRITE and PROT_EXEC imply read).
  return access === 'read' ? true : prot.includes('w');
}

/** Whether the mapping's page holding `byteOffset` carries a guard marker (MADV_GUARD_INSTALL). */
export function guarded(map: MapState, byteOffset: bigint): boolean {
  return map.guards?.includes(Number(byteOffset / PAGE)) ?? false;
}

/** Fault the mapping's page at `byteOffset` in, or say why it cannot be (memory accesses, pins, MADV_POPULATE_*). */
export function faultIn(w: World, mapIndex: number, map: MapState, byteOffset: bigint, access: Access): Fault | { page: number } {
  if (byteOffset < 0n || byteOffset >= BigInt(map.npages) * PAGE) {
    return { outcome: { access: 'SIGSEGV' }, id: 'access.outside-mapping', says: 'an access outside the mapping is SIGSEGV', cite: 'mm' };
  }
  if (!protAllows(map.prot, access)) {
    return {
      outcome: { access: 'SIGSEGV' },
      id: 'access.protection',
      says: `a ${access} the mapping's protection forbids is SIGSEGV (SEGV_ACCERR)`,
      cite: 'mm; kernel here',
    };
  }
  // A guard marker is found in the page table before the file's fault handler runs (so before EOF is checked).
  if (guarded(map, byteOffset)) {
    return {
      outcome: { access: 'SIGSEGV' },
      id: 'access.guard',
      says: 'an access to a guard region (MADV_GUARD_INSTALL) is SIGSEGV',
      cite: 'mm/madvise.c; madvise(2) MADV_GUARD_INSTALL',
    };
  }
  const page = map.start + Number(byteOffset / PAGE);
  if (page >= w.peekGmem(map.gmem).sizePages) {
    return {
      outcome: { access: 'SIGBUS' },
      id: 'access.past-eof',
      says: 'a fault at or beyond EOF is SIGBUS',
      cite: 'kernel-abi.md §2.5 step 1; test_fault_overflow',
    };
  }
  // A uffd-registered page reports the fault to the userfaultfd instead (spec/rules/uffd.ts).
  const uf = userfault(w, mapIndex, map, Number(byteOffset / PAGE), page);
  if (uf) return uf;
  const p = w.page(map.gmem, page);
  if (!p.hostMappers.includes(mapIndex) && !w.pageEvent(map.gmem, page, { type: 'HOST_FAULT', mapper: mapIndex })) {
    const sig = w.vmRules(w.peekGmem(map.gmem).vm).privateHostAccess;
    return {
      outcome: { access: sig },
      id: 'access.private',
      says: `a host fault on a private page is ${sig}`,
      cite: 'kernel-abi.md §2.5 step 2, §5; test_fault_private',
    };
  }
  return { page };
}

const noMapping: Fault = {
  outcome: { access: 'SIGSEGV' },
  id: 'access.no-mapping',
  says: 'an access where nothing is mapped (unmapped or failed mmap) is SIGSEGV',
  cite: 'mm',
};

function decided(f: Fault): Decision {
  return { outcome: f.outcome, rule: { id: f.id, says: f.says, cite: f.cite } };
}

function byteAt(w: World, gmem: number, page: number, off: number): number {
  const p = w.page(gmem, page);
  return p.bytes?.[String(off)] ?? p.content;
}

export function readMem(w: World, op: ReadMemOp & StepMeta): Decision {
  const m = w.map(op.map);
  if (!m) return decided(noMapping);
  const off = s64(op.offset);
  const r = faultIn(w, m.index, m.map, off, 'read');
  if ('outcome' in r) return decided(r);
  return {
    outcome: { access: 'ok', value: byteAt(w, m.map.gmem, r.page, Number(off % PAGE)) },
    rule: {
      id: 'access.read',
      says: 'a shared page reads what was last written, or zero if never written or punched',
      cite: 'kernel-abi.md §2.5 step 5; test_mmap_supported',
    },
  };
}

export function writeMem(w: World, op: WriteMemOp & StepMeta): Decision {
  const m = w.map(op.map);
  if (!m) return decided(noMapping);
  const off = s64(op.offset);
  const r = faultIn(w, m.index, m.map, off, 'write');
  if ('outcome' in r) return decided(r);
  w.pageEvent(m.map.gmem, r.page, { type: 'HOST_WRITE', offset: Number(off % PAGE), value: op.value });
  return {
    outcome: { access: 'ok' },
    rule: { id: 'access.write', says: 'a store to a shared page is seen by every mapping of the file', cite: 'kernel-abi.md §2.5' },
  };
}

/** Walk [offset, offset+length) page by page; stop at the first fault, keeping what was done before it. */
function walk(
  w: World,
  op: FillMemOp | CheckMemOp,
  access: Access,
  perPage: (gmem: number, page: number, from: number, to: number) => void,
): Decision | undefined {
  const m = w.map(op.map);
  if (!m) return decided(noMapping);
  const start = s64(op.offset);
  const end = start + u64(op.length);
  for (let at = start; at < end; ) {
    const r = faultIn(w, m.index, m.map, at, access);
    if ('outcome' in r) return decided(r);
    const pageEnd = (at / PAGE + 1n) * PAGE;
    const to = end < pageEnd ? end : pageEnd;
    perPage(m.map.gmem, r.page, Number(at % PAGE), Number(to - (at / PAGE) * PAGE));
    at = to;
  }
  return undefined;
}

export function fillMem(w: World, op: FillMemOp & StepMeta): Decision {
  const stop = walk(w, op, 'write', (g, page, from, to) => {
    if (from === 0 && to === Number(PAGE)) w.pageEvent(g, page, { type: 'HOST_FILL', value: op.value });
    else for (let o = from; o < to; o++) w.pageEvent(g, page, { type: 'HOST_WRITE', offset: o, value: op.value });
  });
  return (
    stop ?? {
      outcome: { access: 'ok' },
      rule: { id: 'access.fill', says: 'stores over shared pages are seen by every mapping of the file', cite: 'kernel-abi.md §2.5' },
    }
  );
}

export function checkMem(w: World, op: CheckMemOp & StepMeta): Decision {
  let match = true;
  const stop = walk(w, op, 'read', (g, page, from, to) => {
    const p = w.page(g, page);
    if (!p.bytes) {
      if (p.content !== op.value) match = false;
      return;
    }
    for (let o = from; o < to && match; o++) if (byteAt(w, g, page, o) !== op.value) match = false;
  });
  return (
    stop ?? {
      outcome: { access: 'ok', match },
      rule: {
        id: 'access.check',
        says: 'the range reads back the value written (zero if never written or punched)',
        cite: 'kernel-abi.md §2.5',
      },
    }
  );
}

function pinFault(id: string, says: string): Decision {
  return { outcome: { errno: 'EFAULT' }, rule: { id, says, cite: 'kernel-abi.md §2.16; GUP; kernel here (io_uring fixed buffers)' } };
}

export function pin(w: World, op: PinOp & StepMeta): Decision {
  const refusedBy = w.profile.choices.pinRefused;
  const m = w.map(op.map);
  if (!m) return pinFault('pin.no-mapping', 'pinning an address where nothing is mapped fails with EFAULT');
  if (refusedBy)
    return {
      outcome: { errno: refusedBy },
      rule: { id: 'pin.refused', says: `long-term pins of guest_memfd are refused with ${refusedBy}`, cite: 'profile choice' },
    };
  const start = s64(op.offset);
  const len = u64(op.len);
  if (len === 0n || start < 0n) {
    return pinFault('pin.range-invalid', 'a pin of an empty range (or one before the mapping) fails with EFAULT');
  }
  // The pin holds every page the byte range touches; the range need not be page-aligned.
  const pages: number[] = [];
  for (let at = (start / PAGE) * PAGE; at < start + len; at += PAGE) {
    if (at >= BigInt(m.map.npages) * PAGE) return pinFault('pin.outside-mapping', 'pinning past the end of the mapping fails with EFAULT');
    if (guarded(m.map, at)) return pinFault('pin.guard', 'pinning a guard region fails with EFAULT (GUP faults on the guard marker)');
    const page = m.map.start + Number(at / PAGE);
    if (page >= w.peekGmem(m.map.gmem).sizePages)
      return pinFault('pin.past-eof', 'pinning a page at or past EOF fails with EFAULT (the fault would be SIGBUS)');
    // pin_user_pages_fast falls back to GUP with FOLL_UNLOCKABLE, so the fault may wait: the pin waits on the
    // userfault as an access does (spec/rules/uffd.ts).
    const uf = userfault(w, m.index, m.map, Number(at / PAGE), page);
    if (uf)
      return {
        outcome: uf.outcome,
        rule: {
          id: `pin.${uf.id.replace('access.', '')}`,
          says: `a long-term pin faults the page in through GUP, which may wait: ${uf.says}`,
          cite: 'mm/gup.c gup_fast_fallback (FOLL_UNLOCKABLE: the fault may wait); mm/userfaultfd.c handle_userfault (linux-source-7.3)',
        },
      };
    if (!w.pageCan(m.map.gmem, page, { type: 'PIN' }))
      return pinFault('pin.private', 'GUP of a private page fails with EFAULT: private memory is never pinned by the host');
    pages.push(page);
  }
  // GUP faults every page in (writable) before taking the references; a failure above pinned nothing.
  for (const page of pages) {
    const p = w.page(m.map.gmem, page);
    if (!p.hostMappers.includes(m.index)) w.pageEvent(m.map.gmem, page, { type: 'HOST_FAULT', mapper: m.index });
    w.pageEvent(m.map.gmem, page, { type: 'PIN' });
  }
  w.newPin({ map: m.index, offset: Number(start), len: Number(len), pages, live: true });
  return success(
    'pin.ok',
    'a long-term pin (FOLL_LONGTERM) of shared pages succeeds and holds their folios',
    'kernel here (io_uring fixed buffers)',
  );
}

export function unpin(w: World, op: UnpinOp & StepMeta): Decision {
  const r = w.ref(op.map);
  const mapIndex = 'map' in r ? r.map : -1;
  const pinIndex = w.s.pins.findIndex(
    (p) => p.live && p.map === mapIndex && BigInt(p.offset) === s64(op.offset) && BigInt(p.len) === u64(op.len),
  );
  const p = w.pin(pinIndex);
  if (!p)
    return {
      outcome: { errno: 'EINVAL' },
      rule: { id: 'unpin.not-pinned', says: 'unpinning a range that no pin holds fails with EINVAL', cite: 'spec vocabulary' },
    };
  const gmem = w.s.maps[p.map]?.gmem;
  if (gmem !== undefined && w.s.gmems[gmem]?.lifecycle !== 'released')
    for (const page of p.pages) w.pageEvent(gmem, page, { type: 'UNPIN' });
  p.live = false;
  p.pages = [];
  return success('unpin.ok', 'dropping a long-term pin releases the folio references', 'io_uring_register(IORING_UNREGISTER_BUFFERS)');
}
