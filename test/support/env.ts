/** Gives a test worker its environment back (dev servers point grpc-js at the fake Momento through it). */

/** Makes `process.env` exactly `saved` again (a copy taken with `{ ...process.env }`): drops added variables too. */
export function restoreEnv(saved: NodeJS.ProcessEnv): void {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
}
