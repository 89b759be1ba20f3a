/**
 * Converts between the system's flat PageState and the page machine's {value, context}, and applies page
 * events through the machine. It lives on the spec's side: the machine knows nothing of the system state.
 */
import type { AnyStateMachine } from 'xstate';
import { MachineBridge, type MachineObserver, type PartState } from '../machines/bridge.ts';
import { type PageContext, type PageEvent, type PageRules, createPageMachine } from '../machines/page.ts';
import type { PageState } from './state.ts';

export function pageToPart(p: PageState, initShared: boolean): PartState<PageContext> {
  return {
    value: {
      attribute: p.attribute,
      backing: p.backing,
      hostMapping: p.hostMappers.length ? 'mapped' : 'unmapped',
      pins: p.pins ? 'pinned' : 'unpinned',
      trustedEntity: p.trustedEntity,
      directMap: p.directMap,
      stage2: p.stage2,
    },
    context: { initShared, content: p.content, bytes: p.bytes ?? {}, hostMappers: p.hostMappers, pins: p.pins },
  };
}

export function partToPage(part: PartState<PageContext>): PageState {
  const v = part.value as Record<string, string>;
  const c = part.context;
  const page: PageState = {
    attribute: v.attribute as PageState['attribute'],
    backing: v.backing as PageState['backing'],
    content: c.content,
    hostMappers: c.hostMappers,
    pins: c.pins,
    trustedEntity: v.trustedEntity as PageState['trustedEntity'],
    directMap: v.directMap as PageState['directMap'],
    stage2: v.stage2 as PageState['stage2'],
  };
  if (Object.keys(c.bytes).length) page.bytes = c.bytes;
  return page;
}

const bridges = new Map<string, MachineBridge<PageContext, PageEvent>>();

export function pageBridge(rules: PageRules): MachineBridge<PageContext, PageEvent> {
  const key = JSON.stringify(rules);
  let b = bridges.get(key);
  if (!b) {
    b = new MachineBridge<PageContext, PageEvent>(createPageMachine(rules));
    bridges.set(key, b);
  }
  return b;
}

/** A page event the page machine accepted: the page after it, and the machine's own view of the step. */
export interface PageTransition {
  page: PageState;
  machine: AnyStateMachine;
  before: PartState<PageContext>;
  after: PartState<PageContext>;
}

/** The page machine's answer to an event (null: refused); `observer` hears the transition it takes. */
export function pageTransition(
  rules: PageRules,
  page: PageState,
  initShared: boolean,
  event: PageEvent,
  observer?: MachineObserver,
): PageTransition | null {
  const bridge = pageBridge(rules);
  const before = pageToPart(page, initShared);
  const after = bridge.apply(before, event, observer);
  return after ? { page: partToPage(after), machine: bridge.machine, before, after } : null;
}
