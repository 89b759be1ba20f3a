/**
 * A checker worker thread: owns one partition of the state space (src/check/partition.ts) and exchanges each
 * level's successors with its peers over direct MessagePorts; the main thread only says "next level", "stop"
 * and asks for parent links and coverage.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { invariantsFor } from '../../spec/invariants.ts';
import { CandidateDecoder, CandidateEncoder } from './candidateCodec.ts';
import { Partition, levelReport } from './partition.ts';
import type { FromWorker, LevelReport, PeerMessage, ToWorker, WorkerInit } from './protocol.ts';

const CHUNK = 2000;

const data = workerData as WorkerInit & { ports: Array<MessagePort | null> };
const port = parentPort as MessagePort;
const part = new Partition(data.profile, data.bound, invariantsFor(data.profile, data.invariants), data.index, data.parts, {
  coverage: data.coverage,
  symmetry: data.symmetry,
});
const peers = data.ports;
// One encoder per peer this worker sends to, one decoder per peer it hears from (part ids are per channel).
const encoders = peers.map(() => new CandidateEncoder(part.cache.table));
const decoders = peers.map(() => new CandidateDecoder(part.cache.table));
let level = 0;
let stopRequested = false;
/** Per level: how many peers have sent their last share. Candidates are taken in as they arrive. */
const finished = new Map<number, number>();
let wake: (() => void) | undefined;

const post = (m: FromWorker) => port.postMessage(m);

for (const p of peers) {
  if (!p) continue;
  p.on('message', (m: PeerMessage) => {
    // A peer only sends for the level everyone is in (the main thread starts a level when all have
    // committed the previous one), so what arrives joins this level's candidates at once.
    if (m.batch.count) part.receive((decoders[m.from] as CandidateDecoder).decode(m.batch));
    if (m.last) finished.set(m.level, (finished.get(m.level) ?? 0) + 1);
    wake?.();
  });
}

const report = (stopped: boolean): LevelReport => levelReport(part, stopped);

const tick = () => new Promise<void>((r) => setImmediate(r));

const timing = { expand: 0, exchange: 0, commit: 0, sent: 0 };

/**
 * Send each peer the candidates found for it since the last flush. Frontier states are expanded in BFS order,
 * so the first time a partition meets a state in a level is on its best path: later sightings need not be sent.
 */
function flush(mine: number, last: boolean): void {
  peers.forEach((p, i) => {
    if (!p) return;
    const items = part.takeOutbox(i);
    timing.sent += items.length;
    const enc = encoders[i] as CandidateEncoder;
    for (let k = 0; k < items.length; k += CHUNK) {
      const batch = enc.encode(items.slice(k, k + CHUNK));
      p.postMessage({ level: mine, from: data.index, batch, last: false } satisfies PeerMessage, [batch.ints.buffer as ArrayBuffer]);
    }
    if (last) p.postMessage({ level: mine, from: data.index, batch: enc.encode([]), last: true } satisfies PeerMessage);
  });
}
async function runLevel(): Promise<void> {
  const mine = level;
  let t = performance.now();
  let stopped = false;
  let sliceEnd = performance.now() + 50;
  let lastProgress = performance.now();
  for (;;) {
    const done = part.expand(() => stopRequested || performance.now() > sliceEnd);
    if (done) break;
    if (stopRequested) {
      stopped = true;
      break;
    }
    const now = performance.now();
    if (now - lastProgress > 500) {
      lastProgress = now;
      post({
        t: 'progress',
        index: data.index,
        edges: part.edges,
        states: part.table.size,
        pending: part.pendingSize,
        heapUsed: getHeapStatistics().used_heap_size,
      });
    }
    // Stream what was found so far to its owners, so that they take it in while this one goes on.
    flush(mine, false);
    await tick();
    sliceEnd = performance.now() + 50;
  }
  timing.expand += performance.now() - t;
  t = performance.now();
  // Hand every peer the rest of its share and the end marker (even when stopping: no one waits forever).
  flush(mine, true);
  const expected = peers.filter(Boolean).length;
  while ((finished.get(mine) ?? 0) < expected) {
    await new Promise<void>((r) => {
      wake = r;
    });
    wake = undefined;
  }
  finished.delete(mine);
  timing.exchange += performance.now() - t;
  t = performance.now();
  part.commit();
  timing.commit += performance.now() - t;
  if (process.env.GMEM_CHECK_TIMING) console.error(`worker ${data.index} level ${mine}`, JSON.stringify(timing));
  level++;
  post({ t: 'level', report: report(stopped || stopRequested) });
}

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'level':
      runLevel().catch((e: unknown) => post({ t: 'error', message: (e as Error).stack ?? String(e) }));
      break;
    case 'stop':
      stopRequested = true;
      break;
    case 'parents':
      post({ t: 'parents', id: m.id, links: m.fps.map(([lo, hi]) => part.parentOf(lo, hi) ?? null) });
      break;
    case 'coverage':
      post({ t: 'coverage', id: m.id, coverage: part.coverage() });
      break;
    case 'exit':
      for (const p of peers) p?.close();
      port.close();
      break;
  }
});

try {
  part.start();
  post({ t: 'ready', index: data.index, report: report(false) });
} catch (e) {
  post({ t: 'error', message: (e as Error).stack ?? String(e) });
}
