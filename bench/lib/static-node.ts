// A bare node:http server answering every request with one file's bytes: the floor for any
// Node.js server, between nginx and Wharf in the simple-page comparison.
// Run as: node bench/lib/static-node.ts <plain file> <gzip file> <port>
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [plainPath, gzipPath, port] = process.argv.slice(2);
const plain = readFileSync(plainPath);
const gzip = readFileSync(gzipPath);
createServer((req, res) => {
  const gz = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  const body = gz ? gzip : plain;
  const headers: Record<string, string | number> = { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, etag: '"static"', 'cache-control': 'public, max-age=0, must-revalidate', vary: 'Accept, Accept-Encoding' };
  if (gz) headers['content-encoding'] = 'gzip';
  res.writeHead(200, headers);
  res.end(body);
}).listen(Number(port), '127.0.0.1');
