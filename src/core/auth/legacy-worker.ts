// The worker thread of legacy-verifier.ts: checks imported hashes (bcrypt, MD5-crypt) off the
// server's event loop. One message in ({ id, password, hash }), one out ({ id, ok }).
import { parentPort } from 'node:worker_threads';
import { verifyImported } from './imported-hashes.ts';

parentPort!.on('message', (m: { id: number; password: string; hash: string }) => {
  parentPort!.postMessage({ id: m.id, ok: verifyImported(m.password, m.hash) });
});
