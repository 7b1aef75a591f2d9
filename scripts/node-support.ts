/**
 * The Node.js check of the repository's tools (the dev server and the operator scripts): what each needs is in
 * package.json `engines` (Node.js ≥ 20) and the README. The deployed functions run on the Lambda runtime
 * (nodejs24.x) and are not affected.
 *
 * On Node.js 20 and 21 the AWS SDK prints a nine-line NodeVersionSupportWarning (SDK releases after January
 * 2027 need Node.js 22) from every script; the README states it once, so the tools turn it off with the SDK's
 * own switch, `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true`, unless it is set already.
 */

/** The oldest Node.js major version the tools run on (package.json `engines`). */
export const MIN_NODE_MAJOR = 20;

/** What {@link nodeSupport} found. */
export type NodeSupport =
  { readonly ok: true; readonly silenceSdkWarning: boolean } | { readonly ok: false; readonly message: string };

/**
 * Whether `tool` runs on Node.js `version` (`process.version`, e.g. `v20.20.2`), pure.
 *
 * @example
 * nodeSupport('v18.19.0', 'npm run dev') // { ok: false, message: 'npm run dev needs Node.js ≥ 20 …' }
 */
export function nodeSupport(version: string, tool: string): NodeSupport {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (!(major >= MIN_NODE_MAJOR))
    return {
      ok: false,
      message: `${tool} needs Node.js ≥ ${MIN_NODE_MAJOR} (package.json "engines"); this is Node.js ${version}. Install Node.js 22 (LTS) or 20.`,
    };
  return { ok: true, silenceSdkWarning: major < 22 };
}

/**
 * Exits with a clear message (code 1) on a Node.js older than {@link MIN_NODE_MAJOR}; on 20–21, turns off the AWS
 * SDK's Node-version warning (see the module comment). Call first in a tool's entry point.
 */
export function requireSupportedNode(tool: string, env: NodeJS.ProcessEnv = process.env): void {
  const support = nodeSupport(process.version, tool);
  if (!support.ok) {
    console.error(`error: ${support.message}`);
    process.exit(1);
  }
  if (support.silenceSdkWarning) env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
