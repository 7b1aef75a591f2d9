/**
 * Every relative link in the README, CONTRIBUTING.md and docs/*.md points at a file that exists, and every
 * `#anchor` at a heading of its target page (GitHub's heading ids), so moving or renaming a section cannot leave a
 * dead link behind. Links to other sites are not fetched (the suite runs offline).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** The pages checked: the entry page, the contributor guide and every page under docs/. */
const PAGES = [
  'README.md',
  'CONTRIBUTING.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The text outside fenced code blocks and inline code spans: only there is `[x](y)` a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's id for a heading: lower case, punctuation and symbols dropped, spaces → `-`; repeats get `-1`, `-2`. */
function headingIds(markdown: string): Set<string> {
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of markdown.replace(/^```[\s\S]*?^```/gm, '').split('\n')) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1'); // a link in a heading: its text only
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    ids.add(n === 0 ? base : `${base}-${n}`);
  }
  return ids;
}

/** The relative links of `page` (repository-relative path), as written. */
function relativeLinks(page: string): string[] {
  const text = prose(fs.readFileSync(path.join(ROOT, page), 'utf8'));
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target)); // https:, mailto: …
}

/** What is wrong with one link, or undefined when it resolves. */
function problemOf(page: string, target: string): string | undefined {
  const [file, anchor] = target.split('#', 2) as [string, string | undefined];
  const resolved = file === '' ? path.join(ROOT, page) : path.resolve(path.dirname(path.join(ROOT, page)), file);
  if (!fs.existsSync(resolved)) return `${target}: no such file`;
  if (anchor === undefined) return undefined;
  if (!resolved.endsWith('.md')) return `${target}: an anchor into a file that is not Markdown`;
  return headingIds(fs.readFileSync(resolved, 'utf8')).has(decodeURIComponent(anchor))
    ? undefined
    : `${target}: no heading with id "${anchor}" in ${path.relative(ROOT, resolved)}`;
}

describe('Docs: relative links and anchors', () => {
  it('finds the pages and their links', () => {
    // Assess: the check below would pass vacuously on an empty list.
    expect(PAGES).toEqual(expect.arrayContaining(['README.md', 'docs/operations.md', 'docs/decisions.md']));
    expect(relativeLinks('README.md').length).toBeGreaterThan(10);
  });

  it.each(PAGES)('%s: every relative link and anchor resolves', (page) => {
    const problems = relativeLinks(page)
      .map((target) => problemOf(page, target))
      .filter((p): p is string => p !== undefined);
    expect(problems).toEqual([]);
  });
});

describe('Function: headingIds', () => {
  it.each([
    ['## Deploy in brief', 'deploy-in-brief'],
    [
      '## D21 Cold path, continued: at most 0.35× with revocation on',
      'd21-cold-path-continued-at-most-035-with-revocation-on',
    ],
    [
      '## Reading secrets: Secrets Manager `GetSecretValue` signed by `aws4`',
      'reading-secrets-secrets-manager-getsecretvalue-signed-by-aws4',
    ],
    ['### Smoke test (after deploy)', 'smoke-test-after-deploy'],
    ["## The default config's tiers", 'the-default-configs-tiers'],
  ])('%s → #%s', (heading, id) => {
    expect([...headingIds(heading)]).toEqual([id]);
  });

  it('numbers repeated headings as GitHub does', () => {
    expect([...headingIds('## Notes\n## Notes\n## Notes')]).toEqual(['notes', 'notes-1', 'notes-2']);
  });

  it('ignores headings inside code blocks', () => {
    expect([...headingIds('```bash\n# not a heading\n```\n## Real')]).toEqual(['real']);
  });
});
