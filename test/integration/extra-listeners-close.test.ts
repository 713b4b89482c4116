// Closing the server right after it started listening must not leave the ports of
// repositories with a `listen` option open (their listeners start in onListen, which may
// still be running when close begins; the process then never exited).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServer } from '../helpers/server.ts';

const tcpServers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

describe('repositories on ports of their own', () => {
  it('are closed when the server closes right after it started', async () => {
    const before = tcpServers();
    const srv = await startServer({
      repositories: [1, 2, 3, 4].map((i) => ({ name: `own${i}`, format: 'files', options: { listen: '127.0.0.1:0' } })),
    });
    await srv.close();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(tcpServers(), before, 'no listening socket left behind');
  });
});
