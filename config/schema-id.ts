/**
 * The id of the configuration schema, computed from its source files: the first 16 hex digits of the SHA-256 over
 * each file's name, byte length and text (CRLF read as LF). config/sealed.ts uses it as `CONFIG_SCHEMA_ID`; a
 * bundle gets it as a constant instead (lib/bundling.ts defines `TVM_CONFIG_SCHEMA_ID`), so the vending function
 * never reads these files (they are not in its code asset) nor loads this module.
 *
 * The installed package ships no TypeScript sources: the package build (scripts/build-package.ts) writes the id
 * of the sources it compiled to {@link SCHEMA_ID_FILE} beside this module, and {@link configSchemaId} reads it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The files the id is computed from, relative to the repository root, in this order. */
export const CONFIG_SCHEMA_FILES = ['config/schema.ts', 'config/auth-schema.ts', 'config/limits.ts'] as const;

/** Name of the file holding the id in the package (`dist/config/schema-id.json`, `{ "id": "…" }`). */
export const SCHEMA_ID_FILE = 'schema-id.json';

/**
 * The schema id of the sources under `root`.
 *
 * @param root the repository root
 * @throws Error when a schema file cannot be read
 */
export function computeSchemaId(root: string): string {
  const h = createHash('sha256');
  for (const f of CONFIG_SCHEMA_FILES) {
    const text = fs.readFileSync(path.join(root, f), 'utf8').replace(/\r\n/g, '\n');
    h.update(`${f}\n${Buffer.byteLength(text)}\n${text}`);
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * The schema id of this copy of the code: the one the package build recorded beside this module, else computed
 * from the sources of the repository this module is in.
 */
export function configSchemaId(): string {
  const shipped = path.join(__dirname, SCHEMA_ID_FILE);
  if (fs.existsSync(shipped)) return (JSON.parse(fs.readFileSync(shipped, 'utf8')) as { id: string }).id;
  return computeSchemaId(path.resolve(__dirname, '..'));
}
