/** Converts between the system's flat PageState and the page machine's {value, context}, and applies events. */
import type { PageState } from '../spec/state.ts';
import { MachineBridge, type PartState } from './bridge.ts';
import { type PageContext, type PageEvent, type PageRules, createPageMachine } from './page.ts';

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

/** The page after the event, or null when the page machine refuses it. */
export function applyPageEvent(rules: PageRules, page: PageState, initShared: boolean, event: PageEvent): PageState | null {
  const next = pageBridge(rules).apply(pageToPart(page, initShared), event);
  return next ? partToPage(next) : null;
}
