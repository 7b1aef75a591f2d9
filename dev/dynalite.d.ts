/** Types for `dynalite` (a local DynamoDB API; it ships none): the factory the dev server and tests use. */
declare module 'dynalite' {
  import type { Server } from 'node:http';
  /** Creates an HTTP server speaking DynamoDB's API, in memory unless `path` is given. */
  function dynalite(options?: {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    path?: string;
  }): Server;
  export = dynalite;
}
