import { describe, expect, it } from 'vitest';
import {
  decodeContainerOptions,
  encodeContainerOptions,
  mergeContainerOptions,
} from '../../src/supervisor/container-options.js';
import { resolveManagerOptions } from '../../src/options.js';

const base = resolveManagerOptions({
  backoff: { initialMs: 50, maxMs: 5_000, jitter: 0.1 },
  rateLimit: { maxRestarts: 3, windowMs: 1_000 },
  profile: 'docker',
});

describe('container options', () => {
  it('merge over the supervisor options key by key, backoff field by field', () => {
    const merged = mergeContainerOptions(base, {
      backoff: { multiplier: 3 },
      exitCodeRules: [{ action: 'stop', exitCodes: [9] }],
    });
    expect(merged.backoff).toEqual({ initialMs: 50, multiplier: 3, maxMs: 5_000, resetAfterMs: 10_000, jitter: 0.1 });
    expect(merged.profile).toBe('docker');
    expect(merged.rateLimit).toEqual({ maxRestarts: 3, windowMs: 1_000 });
    expect(merged.exitCodeRules).toEqual([{ action: 'stop', exitCodes: [9] }]);
    expect(merged.random).toBe(base.random);
    expect(merged.clock).toBe(base.clock);
  });

  it('a container may replace each key', () => {
    const merged = mergeContainerOptions(base, {
      profile: 'isulad',
      backoff: { initialMs: 10, multiplier: 1.5, maxMs: 100, resetAfterMs: Infinity, jitter: 0 },
      rateLimit: { maxRestarts: 1, windowMs: 10 },
      exitCodeRules: [],
    });
    expect(merged).toMatchObject({
      profile: 'isulad',
      backoff: { initialMs: 10, multiplier: 1.5, maxMs: 100, resetAfterMs: Infinity, jitter: 0 },
      rateLimit: { maxRestarts: 1, windowMs: 10 },
      exitCodeRules: [],
    });
  });

  it('a larger initial delay raises the inherited cap', () => {
    expect(mergeContainerOptions(base, { backoff: { initialMs: 9_000 } }).backoff.maxMs).toBe(9_000);
  });

  it('no container options is the base itself', () => {
    expect(mergeContainerOptions(base, undefined)).toBe(base);
  });

  it.each([
    [
      { random: Math.random },
      TypeError,
      'Unknown container option `random`: a container may set profile, backoff, rateLimit, exitCodeRules',
    ],
    [
      { clock: { now: () => 0 } },
      TypeError,
      'Unknown container option `clock`: a container may set profile, backoff, rateLimit, exitCodeRules',
    ],
    [{ backoff: 3 }, TypeError, 'Expected `options.backoff` to be an object, got 3'],
    [{ rateLimit: 'x' }, TypeError, "Expected `options.rateLimit` to be an object, got 'x'"],
    [{ backoff: { initialMs: -1 } }, RangeError, '`backoff.initialMs`'],
    [null, TypeError, 'Expected `options` to be an object, got null'],
  ])('refuses %j', (options, kind, message) => {
    expect(() => mergeContainerOptions(base, options as never)).toThrow(kind);
    expect(() => mergeContainerOptions(base, options as never)).toThrow(message);
  });

  it('encode Infinity as null for JSON, and decode it back', () => {
    const options = {
      backoff: { resetAfterMs: Infinity, initialMs: 5 },
      rateLimit: { maxRestarts: 2, windowMs: Infinity },
    };
    const encoded = encodeContainerOptions(options);
    expect(encoded).toEqual({
      backoff: { resetAfterMs: null, initialMs: 5 },
      rateLimit: { maxRestarts: 2, windowMs: null },
    });
    expect(decodeContainerOptions(JSON.parse(JSON.stringify(encoded)))).toEqual(options);
    const finite = {
      backoff: { resetAfterMs: 5 },
      rateLimit: { maxRestarts: 2, windowMs: 7 },
      profile: 'docker' as const,
    };
    expect(encodeContainerOptions(finite)).toEqual(finite);
    expect(decodeContainerOptions(finite)).toEqual(finite);
    expect(encodeContainerOptions({})).toEqual({});
  });

  it('decoding validates, and names an unknown key', () => {
    expect(() => decodeContainerOptions({ profile: 'docker', random: null })).toThrow(
      new TypeError(
        'Unknown container option `random`: a container may set profile, backoff, rateLimit, exitCodeRules',
      ),
    );
    expect(() => decodeContainerOptions({ backoff: { initialMs: 'x' } })).toThrow('`backoff.initialMs`');
    expect(() => decodeContainerOptions({ rateLimit: { maxRestarts: 1, windowMs: -5 } })).toThrow(
      '`rateLimit.windowMs`',
    );
  });
});
