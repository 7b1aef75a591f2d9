import { CallerLimit } from '../../lambda/caller-limit';

describe('Class: CallerLimit', () => {
  it('allows the burst, then refuses with the seconds until the next mint', () => {
    // Prepare
    let now = 0;
    const limit = new CallerLimit({ mintsPerMinute: 6, burst: 2, nowMs: () => now });
    // Act / Assess
    expect([limit.take('a'), limit.take('a')]).toEqual([0, 0]);
    expect(limit.take('a')).toBe(10); // one mint every 10 s
    now += 10_000;
    expect(limit.take('a')).toBe(0);
    expect(limit.take('a')).toBe(10);
  });

  it('keeps callers apart', () => {
    const limit = new CallerLimit({ mintsPerMinute: 1, nowMs: () => 0 });
    expect(limit.take('alice')).toBe(0);
    expect(limit.take('alice')).toBeGreaterThan(0);
    expect(limit.take('bob')).toBe(0);
  });

  it('never stores more than the burst while idle', () => {
    let now = 0;
    const limit = new CallerLimit({ mintsPerMinute: 60, burst: 3, nowMs: () => now });
    limit.take('a');
    now += 3_600_000;
    expect([0, 1, 2, 3].map(() => limit.take('a'))).toEqual([0, 0, 0, 1]);
  });

  it('forgets the least recently seen caller beyond maxCallers', () => {
    const limit = new CallerLimit({ mintsPerMinute: 1, maxCallers: 2, nowMs: () => 0 });
    limit.take('a');
    limit.take('b');
    limit.take('c'); // evicts a
    expect(limit.take('a')).toBe(0);
    expect(limit.take('c')).toBeGreaterThan(0);
  });
});
