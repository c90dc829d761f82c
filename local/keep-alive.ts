/**
 * Idle keep-alive connections held open longer than clients keep them (undici: 4 s; Node's server default: 5 s).
 * With the defaults, a loaded machine lets the server close an idle socket just as the client reuses it, and the
 * client sees ECONNRESET; S3 and API Gateway keep idle connections for about a minute, so the local servers do too.
 */
import type { Server } from "node:http";

export function keepIdleConnections(server: Server): Server {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}
