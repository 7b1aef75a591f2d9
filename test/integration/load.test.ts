/**
 * The load test, bounded for CI: the same code as `npm run load-test` (scripts/load-test.ts), 2,000 requests
 * at concurrency 200 per scenario, through the real handler + real gRPC minter against the fake Momento, with the
 * token cache disabled so every request mints.
 */
import { CALL_FAILURE_P, scenario } from '../../scripts/load-test';

const REQUESTS = 2000;
const CONCURRENCY = 200;

describe('load: real handler + real minter + fake Momento, token cache off', () => {
  it(`Momento healthy: ${REQUESTS} requests at concurrency ${CONCURRENCY} → all 200, zero 5xx, each mint reached Momento`, async () => {
    const r = await scenario('healthy', { requests: REQUESTS, concurrency: CONCURRENCY });

    console.log(
      `load healthy: ${r.summary.requests} req in ${r.summary.durationMs.toFixed(0)} ms (${r.summary.rps.toFixed(0)} req/s), ` +
        `statuses ${JSON.stringify(r.summary.statuses)}, p50 ${r.summary.p50.toFixed(0)} ms, p99 ${r.summary.p99.toFixed(0)} ms, ` +
        `max ${r.summary.max.toFixed(0)} ms, fake calls ${r.fakeCalls}`,
    );
    expect(r.summary.answered).toBe(REQUESTS);
    expect(r.summary.statuses).toEqual({ 200: REQUESTS });
    expect(r.fakeCalls).toBe(REQUESTS);
    expect(r.fakeOk).toBe(REQUESTS);
    expect(r.violations).toEqual([]);
    expect(r.summary.max).toBeLessThan(r.maxMs);
  }, 30_000);

  it(`Momento failing half the time: only 503s, exactly for the requests whose calls both failed; all answered in time`, async () => {
    const r = await scenario('half-failing', { requests: REQUESTS, concurrency: CONCURRENCY, seed: 7 });

    console.log(
      `load half-failing: ${r.summary.requests} req in ${r.summary.durationMs.toFixed(0)} ms (${r.summary.rps.toFixed(0)} req/s), ` +
        `statuses ${JSON.stringify(r.summary.statuses)}, codes ${JSON.stringify(r.summary.codes)}, p50 ${r.summary.p50.toFixed(0)} ms, ` +
        `p99 ${r.summary.p99.toFixed(0)} ms, max ${r.summary.max.toFixed(0)} ms, fake calls ${r.fakeCalls} ` +
        `(${r.fakeUnavailable} UNAVAILABLE) over ${r.connections} connections, expected 503s ${r.expectedFailures}`,
    );
    // Every request answered, each within 2 × deadline + margin, each with the status its own calls dictate.
    expect(r.summary.answered).toBe(REQUESTS);
    expect(r.violations).toEqual([]);
    // Only 200 and 503 (momento-unavailable), and the 503s are exactly the requests whose two calls failed.
    expect(Object.keys(r.summary.statuses).sort()).toEqual(['200', '503']);
    expect(r.summary.codes).toEqual({ 'momento-unavailable': r.expectedFailures });
    expect(r.summary.statuses[503]).toBe(r.expectedFailures);
    // "Half" is meaningful: the per-call coin (p = √½) makes ≈ 50 % of requests fail after the one retry.
    expect(CALL_FAILURE_P ** 2).toBeCloseTo(0.5, 10);
    expect(r.expectedFailures / REQUESTS).toBeGreaterThan(0.45);
    expect(r.expectedFailures / REQUESTS).toBeLessThan(0.55);
    // Exactly one retry per first-call UNAVAILABLE, never more: calls = requests + (UNAVAILABLEs − final failures).
    expect(r.fakeCalls).toBe(REQUESTS + r.fakeUnavailable - r.expectedFailures);
    expect(r.fakeOk).toBe(r.summary.statuses[200]);
  }, 30_000);
});
