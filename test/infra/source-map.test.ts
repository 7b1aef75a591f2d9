/**
 * The vending bundle's source map does not depend on where the checkout or the build lives (issue 17 item 9):
 * the same code has the same asset hash from any clone or CI, and the map names no build path.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, buildFunctionSync } from '../../lib/bundling';

describe('Function: buildFunctionSync — source map', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('writes the same map from two build directories, with sources relative to the repository root', () => {
    // Prepare
    const a = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-map-a-'));
    const b = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-map-b-')), 'deeper', 'still');
    dirs.push(a, path.dirname(path.dirname(b)));

    // Act
    buildFunctionSync('vending', a);
    buildFunctionSync('vending', b);

    // Assess
    const mapA = fs.readFileSync(path.join(a, 'index.js.map'), 'utf8');
    const mapB = fs.readFileSync(path.join(b, 'index.js.map'), 'utf8');
    expect(mapA).toBe(mapB);
    expect(fs.readFileSync(path.join(a, 'index.js'))).toEqual(fs.readFileSync(path.join(b, 'index.js')));
    const { sources } = JSON.parse(mapA) as { sources: string[] };
    expect(sources).toContain('lambda/handler.ts');
    for (const source of sources) {
      expect(source).not.toMatch(/^\/|^\.\.\/|\\\\/);
      expect(path.isAbsolute(source)).toBe(false);
    }
    expect(mapA).not.toContain(ROOT);
    expect(mapA).not.toContain(os.tmpdir());
  }, 60_000);
});
