import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, parseJson, readInt, stringifyJson } from '../spec/json.ts';

describe('u64/s64 values in JSON stay exact', () => {
  it('parses integers past 2^53 as bigint instead of rounding them', () => {
    const v = parseJson('{"flags": 18446744073709551615, "size": 9223372036854771712, "small": 4096}') as Record<string, unknown>;
    expect(v.flags).toBe(18446744073709551615n);
    expect(v.size).toBe(9223372036854771712n);
    expect(v.small).toBe(4096);
    // What JSON.parse would have done:
    expect(BigInt(JSON.parse('18446744073709551615') as number)).not.toBe(18446744073709551615n);
  });

  it('writes bigints back as bare integers, byte for byte', () => {
    const text = '{"a":[18446744073709551615,-9223372036854775808,1],"b":"x"}';
    expect(stringifyJson(parseJson(text))).toBe(text);
  });

  it('accepts the same value as a decimal or 0x string', () => {
    expect(readInt('18446744073709551615')).toBe(2n ** 64n - 1n);
    expect(readInt('0xffffffffffffffff')).toBe(2n ** 64n - 1n);
    expect(readInt(' 4096 ')).toBe(4096n);
    expect(readInt('12abc')).toBeUndefined();
    expect(readInt(1.5)).toBeUndefined();
  });

  it('reports syntax errors with line and column', () => {
    expect(() => parseJson('{\n  "a": 1,\n  "b": tru\n}')).toThrow(JsonSyntaxError);
    expect(() => parseJson('{\n  "a": 1,\n  "b": tru\n}')).toThrow(/line 3/);
    expect(() => parseJson('{"a": 1, "a": 2}')).toThrow(/duplicate key "a"/);
    expect(() => parseJson('[1, 2] x')).toThrow(/trailing/);
  });
});
