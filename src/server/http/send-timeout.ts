// An idle timeout for responses, and a bound on connections. A client that stops reading a
// download would otherwise hold its connection, a chunk buffer and an open blob for good
// (there is no request timeout: uploads may take hours). The socket's own inactivity timer
// (server.timeout) fires after `idleMs` without a byte read or written; Node counts partial
// writes as progress, so a slow but steady reader never times out. When it fires, the
// connection is closed only if it is the client's fault:
// - no response under way (an idle keep-alive connection, or no request yet): closed, as
//   Node does by default;
// - a response with bytes waiting for the client to take them: closed, and logged;
// - a response with nothing to write (the server is working, waiting on an upstream, or
//   reading a request body, which bodyIdleTimeout watches): left alone.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface SendTimeoutLog {
  info(obj: object, msg: string): void;
}

export interface ConnectionLimits {
  /** Milliseconds a response may wait for the client to take a byte (0: forever). */
  sendIdleMs: number;
  /** Most open connections per listening server (0: no limit); more are refused at once. */
  maxConnections: number;
}

export class SendIdleTimeout {
  private readonly limits: ConnectionLimits;
  private log: SendTimeoutLog | undefined;
  private readonly active = new WeakMap<Socket, ServerResponse>();
  /** Connections closed because the client stopped reading (for tests and metrics). */
  cut = 0;

  constructor(limits: ConnectionLimits, log?: SendTimeoutLog) {
    this.limits = limits;
    this.log = log;
  }

  setLog(log: SendTimeoutLog): void {
    this.log = log;
  }

  /** Apply the limits to a listening server (the main one and each repository's own port). */
  attach(server: Server): void {
    if (this.limits.maxConnections > 0) server.maxConnections = this.limits.maxConnections;
    if (this.limits.sendIdleMs <= 0) return;
    server.timeout = this.limits.sendIdleMs;
    // With a listener here, Node leaves the decision to close to it.
    server.on('timeout', (socket: Socket) => this.onTimeout(socket));
  }

  /** Note the response under way on its connection; call for every request. */
  track(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    this.active.set(socket, res);
    res.once('close', () => {
      if (this.active.get(socket) === res) this.active.delete(socket);
    });
  }

  private onTimeout(socket: Socket): void {
    const res = this.active.get(socket);
    if (!res) return void socket.destroy();
    if (socket.writableLength === 0 && res.writableLength === 0) return;
    this.cut++;
    this.log?.info({ req: { method: res.req?.method, url: res.req?.url }, bytesWritten: socket.bytesWritten, idleSeconds: this.limits.sendIdleMs / 1000 }, 'response idle: the client took no bytes; connection closed');
    socket.destroy();
  }
}
