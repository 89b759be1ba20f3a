import { describe, expect, it } from 'vitest';
import { checkHandles } from '../spec/handles.ts';
import { formatTrace, parseTrace, TraceError } from '../spec/trace.ts';

const trace = (steps: unknown[]) => JSON.stringify({ format: 'gmem-trace/1', steps });

function rejection(text: string): string {
  try {
    const t = parseTrace(text, 't.json');
    checkHandles(t.steps, 't.json');
  } catch (e) {
    expect(e).toBeInstanceOf(TraceError);
    return (e as Error).message;
  }
  throw new Error('the trace was accepted');
}

describe('malformed traces are rejected with the step and field named', () => {
  it.each([
    ['an unknown operation', [{ op: 'frobnicate' }], 't.json: steps[0].op: unknown operation "frobnicate"'],
    [
      'a missing field',
      [
        { op: 'create_vm', type: 'default', as: 'vm0' },
        { op: 'create_gmem', vm: 'vm0', flags: 3 },
      ],
      't.json: steps[1].size: missing (required by create_gmem)',
    ],
    [
      'a field of the wrong type',
      [
        { op: 'create_vm', type: 'default', as: 'vm0' },
        { op: 'create_gmem', vm: 'vm0', size: true, flags: 0 },
      ],
      't.json: steps[1].size: expected an integer (number, decimal or 0x string), got true',
    ],
    ['an unknown field', [{ op: 'create_vm', type: 'default', sise: 1 }], 't.json: steps[0].sise: unknown field for create_vm'],
    [
      '"as" on an operation that creates nothing',
      [
        { op: 'create_vm', type: 'default', as: 'vm0' },
        { op: 'close', h: 'vm0', as: 'x' },
      ],
      't.json: steps[1].as: close creates nothing to name',
    ],
    [
      'a byte out of range',
      [{ op: 'write_mem', map: 'm0', offset: 0, value: 256 }],
      't.json: steps[0].value: expected a byte value 0..255, got 256',
    ],
    [
      'a bad protection',
      [{ op: 'mprotect', map: 'm0', prot: 'wr' }],
      't.json: steps[0].prot: expected a protection such as "r", "rw", "rwx" or "none", got "wr"',
    ],
    [
      'a malformed outcome',
      [{ op: 'create_vm', type: 'default', observed: { errno: 'EWHAT' } }],
      /^t\.json: steps\[0\]\.observed\.errno: expected one of EPERM, .*got "EWHAT"$/,
    ],
    [
      'a handle no step created',
      [
        { op: 'create_vm', type: 'default', as: 'vm0' },
        { op: 'create_gmem', vm: 'vm1', size: 4096, flags: 0 },
      ],
      't.json: steps[1].vm: unknown handle "vm1": no earlier step creates it (use "as")',
    ],
    [
      'a missing field in a nested fork step',
      [{ op: 'fork', steps: [{ op: 'read_mem', map: 'm0' }] }],
      't.json: steps[0].steps[0].offset: missing (required by read_mem)',
    ],
    [
      'an unknown handle in a nested fork step',
      [{ op: 'fork', steps: [{ op: 'read_mem', map: 'm0', offset: 0 }] }],
      't.json: steps[0].steps[0].map: unknown handle "m0": no earlier step creates it (use "as")',
    ],
  ])('%s', (_what, steps, message) => {
    const m = rejection(trace(steps));
    if (message instanceof RegExp) expect(m).toMatch(message);
    else expect(m).toBe(message);
  });

  it('rejects a document that is not a trace', () => {
    expect(rejection('{"format": "gmem-trace/2", "steps": []}')).toBe('t.json: format: expected "gmem-trace/1", got "gmem-trace/2"');
    expect(rejection('{"format": "gmem-trace/1"}')).toBe('t.json: steps: expected a list of steps');
    expect(rejection('{"format": "gmem-trace/1", "steps": [}')).toMatch(/^t\.json: not valid JSON: .*line 1/);
  });

  it('a handle created inside a fork is not visible to the parent afterwards', () => {
    const m = rejection(
      trace([
        { op: 'create_vm', type: 'default', as: 'vm0' },
        { op: 'fork', steps: [{ op: 'create_gmem', vm: 'vm0', size: 4096, flags: 0, as: 'g9' }] },
        { op: 'close', h: 'g9' },
      ]),
    );
    expect(m).toMatch(/^t\.json: steps\[2\]\.h: unknown handle "g9"/);
  });
});

describe('traces carry u64 values exactly and serialise stably', () => {
  it('keeps 2^64-1 flags and a 2^63-4096 size through parse and format', () => {
    const t = parseTrace(
      trace([
        { op: 'create_vm', type: 'default', as: 'vm0' },
        { op: 'create_gmem', vm: 'vm0', size: '0x7ffffffffffff000', flags: 18446744073709551615n.toString(), as: 'g0' },
      ]).replace('"18446744073709551615"', '18446744073709551615'),
    );
    const s = t.steps[1];
    expect(s?.op === 'create_gmem' && s.flags).toBe(18446744073709551615n);
    expect(s?.op === 'create_gmem' && s.size).toBe(9223372036854771712n);
    const text = formatTrace(t);
    expect(text).toContain('"flags": 18446744073709551615');
    expect(formatTrace(parseTrace(text))).toBe(text);
  });
});
