/**
 * Powertools for AWS Lambda as the oracle of the functions' own log and metrics writers (common/log.ts,
 * lambda/telemetry.ts): run it for real, capture what it writes to stdout and stderr, and compare line by line.
 */

/** One line written, parsed, and the stream it went to. */
export type Line = { stream: 'stdout' | 'stderr'; record: Record<string, unknown> };

/** Runs `act` with stdout and stderr captured; returns every JSON line written, parsed. */
export function captureLines(act: () => void): Line[] {
  const lines: Line[] = [];
  const capture = (stream: 'stdout' | 'stderr') =>
    jest.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const l of String(chunk).split('\n'))
        if (l.trim() !== '') lines.push({ stream, record: JSON.parse(l) as Record<string, unknown> });
      return true;
    });
  const out = capture('stdout');
  const err = capture('stderr');
  try {
    act();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return lines;
}

/** Times differ between two runs: compare their shape (ISO timestamp, epoch ms) instead. */
export function normalized(lines: Line[]): Line[] {
  return lines.map(({ stream, record }) => {
    const r = structuredClone(record);
    if (typeof r.timestamp === 'string') {
      expect(r.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      r.timestamp = 'T';
    }
    const aws = r._aws as { Timestamp?: unknown } | undefined;
    if (aws) {
      expect(typeof aws.Timestamp).toBe('number');
      aws.Timestamp = 0;
    }
    return { stream, record: r };
  });
}
