/**
 * Post-deploy smoke test (`npm run smoke -- --stack <name> …`): checks a deployed TVM over the network for what
 * the offline test suite cannot prove — API Gateway's own answers (preflight, 401, 404, CORS on them), the
 * Cognito authorizer's header forms, and, with `--momento`, that a vended token really works against Momento and
 * only within its scope.
 *
 * Prints one table (check, expected, seen) and exits 0 when every check passed, 1 when one failed, 2 on a usage
 * error. Never prints the token, the credential or a response body: only statuses, header values, field names and
 * error codes, and every line passes through a redactor that masks the secrets it knows.
 *
 * This file is the entry; the parts live in scripts/smoke/: the command line (cli.ts), the stack lookup (stack.ts),
 * the HTTP checks (http-checks.ts), the Momento checks (momento-checks.ts), the table and its redactor (report.ts),
 * and one run tying them together (run.ts).
 */
import { requireSupportedNode } from './node-support';
import { run } from './smoke/run';

if (require.main === module) {
  requireSupportedNode('npm run smoke');
  void run(process.argv.slice(2), {
    env: process.env,
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  }).then((code) => {
    process.exitCode = code;
    // The Momento SDK's topic channels have no close(): leave soon after the table is written.
    setTimeout(() => process.exit(code), 200).unref();
  });
}
