/**
 * The server's transport: HTTPS with HTTP/2 (ALPN `h2`, HTTP/1.1 for clients that do not offer it),
 * or plain HTTP/1.1 with `QATOM_HTTP`, with the same protections on every protocol, and the
 * connections tracked so that `close()` ends them all (WatchCells streams never end by themselves).
 *
 * Why HTTP/2: a browser opens at most six HTTP/1.1 connections per host, and every WatchCells
 * stream holds one for as long as it runs. Ten cubes streamed in one workbook (one stream per cube)
 * plus the task pane would leave every GetCells and WriteCells queued behind the streams. Over HTTP/2
 * the browser multiplexes every request of the origin on one connection (the server allows
 * {@link MAX_CONCURRENT_STREAMS} at once).
 *
 * The protections, per protocol:
 *
 * | protection | HTTP/1.1 (`QATOM_HTTP`, or the fallback of HTTPS) | HTTP/2 |
 * |---|---|---|
 * | TLS handshake not completed | `handshakeTimeout` = headers timeout | the same |
 * | nothing, or not the whole headers, sent in time | `headersTimeout` | a session that opens no stream within the headers timeout is destroyed (an HTTP/2 HEADERS frame arrives whole, so there is no partial-headers state to time) |
 * | the whole request not received in time | `requestTimeout` | a stream whose request body has not ended within the request timeout is cancelled (`NGHTTP2_CANCEL`); a WatchCells response streams on after its request ended |
 * | idle kept-alive connection | `keepAliveTimeout` | a session with no open stream for the keep-alive timeout is closed (GOAWAY; nothing in flight is cut) |
 * | request body size | the API's body limit (body-limit.ts): it reads the request as a stream, whatever the protocol | the same |
 *
 * @see https://nodejs.org/api/http2.html#compatibility-api (the API Hono's node-server uses for HTTP/2)
 * @see https://nodejs.org/api/http2.html#alpn-negotiation (`allowHTTP1`)
 */
import type http from "node:http";
import http2 from "node:http2";
import type net from "node:net";
import type { Config } from "../config";

/** Most streams one HTTP/2 connection may have open at once (the SETTINGS_MAX_CONCURRENT_STREAMS the server announces). */
export const MAX_CONCURRENT_STREAMS = 256;

/** The timeouts of the configuration the transport applies (see the module comment). */
export type TransportTimeouts = Pick<Config, "headersTimeoutMs" | "requestTimeoutMs" | "keepAliveTimeoutMs">;

/**
 * The Node HTTP/1.1 server's timeouts from the configuration: `headersTimeout` (a connection that
 * sends nothing, or not its whole headers, in time is closed; Node checks every
 * `connectionsCheckingInterval`), `requestTimeout` (receiving the whole request; a WatchCells
 * response streams on after the request is received) and `keepAliveTimeout` (an idle kept-alive
 * connection). Node's own default for the check interval is 30 s, so it is tied to the headers
 * timeout here.
 */
export function serverTimeouts(config: TransportTimeouts): http.ServerOptions {
  return {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(config.headersTimeoutMs / 4))),
  };
}

/** What a server accepted, for diagnostics and for tests that count connections (`RunningServer.connections`). */
export interface ConnectionCounts {
  /** TCP connections accepted since the server started (a TLS connection counts once, whatever it then speaks). */
  accepted: number;
  /** TCP connections open now. */
  open: number;
  /**
   * TLS connections whose handshake completed (0 over plain HTTP): the connections that can carry
   * requests. A client that refuses the certificate (a browser that does not trust the development
   * certificate, before the user accepts it) is accepted but never completes a handshake.
   */
  handshakes: number;
  /** Connections that negotiated HTTP/2 (ALPN `h2`) since the server started; the rest spoke HTTP/1.1. */
  http2Sessions: number;
}

/**
 * Counts the connections a server accepts and ends them all on `destroyAll` (Node's
 * `closeAllConnections` exists for HTTP/1.1 servers only, and `server.close()` of an HTTP/2 server
 * waits for every session to end, which a WatchCells stream never does by itself).
 */
export class ConnectionTracker {
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private accepted = 0;
  private http2Sessions = 0;
  private handshakes = 0;

  /** Follows `server`'s connections (and HTTP/2 sessions, when it makes them). */
  constructor(server: net.Server) {
    server.on("connection", (socket: net.Socket) => {
      this.accepted++;
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    server.on("secureConnection", () => {
      this.handshakes++;
    });
    server.on("session", (session: http2.ServerHttp2Session) => {
      this.http2Sessions++;
      this.sessions.add(session);
      session.once("close", () => this.sessions.delete(session));
    });
  }

  /** The counts now (see {@link ConnectionCounts}). */
  counts(): ConnectionCounts {
    return { accepted: this.accepted, open: this.sockets.size, handshakes: this.handshakes, http2Sessions: this.http2Sessions };
  }

  /** Ends every HTTP/2 session and every connection now (open streams end with them). */
  destroyAll(): void {
    for (const s of this.sessions) s.destroy();
    for (const s of this.sockets) s.destroy();
  }
}

/**
 * The `createServer` for Hono's `serve`: `http2.createSecureServer` with `allowHTTP1`, the
 * HTTP/1.1 fallback's timeouts set on the server (Node's HTTP/1.1 connection handling reads them
 * from it), and the HTTP/2 sessions guarded as the module comment says. Hono passes its
 * `serverOptions` (the key, the certificate, the handshake timeout) as `options`.
 */
export function secureServerFactory(timeouts: TransportTimeouts): typeof http2.createSecureServer {
  const create = (options: http2.SecureServerOptions, listener?: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void) => {
    const server = http2.createSecureServer({ ...options, allowHTTP1: true, settings: { ...options.settings, maxConcurrentStreams: MAX_CONCURRENT_STREAMS } }, listener);
    // Read by Node's HTTP/1.1 connection handling (the fallback) and its connection checks, which
    // start on 'listening': set before Hono's serve() calls listen().
    Object.assign(server, serverTimeouts(timeouts));
    guardHttp2Sessions(server, timeouts);
    return server;
  };
  return create as typeof http2.createSecureServer;
}

/** Applies the HTTP/2 rows of the module comment's table to every session of `server`. */
export function guardHttp2Sessions(server: http2.Http2SecureServer | http2.Http2Server, t: TransportTimeouts): void {
  server.on("session", (session: http2.ServerHttp2Session) => {
    let open = 0;
    // No first request within the headers timeout: the client is not using the connection.
    let idle: NodeJS.Timeout | null = setTimeout(() => session.destroy(), t.headersTimeoutMs);
    const stopIdle = () => {
      if (idle) clearTimeout(idle);
      idle = null;
    };
    session.on("stream", (stream: http2.ServerHttp2Stream) => {
      open++;
      stopIdle();
      // The request (its body) must have ended within the request timeout; the response may stream on.
      let receiving: NodeJS.Timeout | null = stream.endAfterHeaders
        ? null
        : setTimeout(() => {
            if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
          }, t.requestTimeoutMs);
      const received = () => {
        if (receiving) clearTimeout(receiving);
        receiving = null;
      };
      stream.once("end", received);
      stream.once("close", () => {
        received();
        open--;
        if (open === 0 && !session.closed && !session.destroyed) {
          stopIdle();
          idle = setTimeout(() => session.close(), t.keepAliveTimeoutMs);
        }
      });
    });
    session.once("close", stopIdle);
  });
}
