// A free TCP port on 127.0.0.1, for servers a test starts as child processes (they are told
// a port rather than reporting one). Another process may take it before it is bound: callers
// that can, retry on EADDRINUSE.
import { once } from 'node:events';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}
