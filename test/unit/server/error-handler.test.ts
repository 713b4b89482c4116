// The error handler: a WharfError's own headers reach the client (a 416 names the size in
// Content-Range, RFC 9110 §15.5.17), headers meant for the content that was to be sent do
// not, and errors from outside the catalog are 500s.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { WharfError } from '../../../src/core/errors.ts';
import { errorHandler } from '../../../src/server/error-handler.ts';

test('a 416 keeps its Content-Range; stale content headers are dropped', async () => {
  const app = Fastify();
  app.setErrorHandler(errorHandler);
  app.get('/range', async (_req, reply) => {
    reply.header('etag', '"abc"').header('cache-control', 'public, max-age=31536000, immutable').header('content-range', 'bytes 0-9/10');
    throw new WharfError('RANGE_NOT_SATISFIABLE', 'range not satisfiable', { 'content-range': 'bytes */10' });
  });
  app.get('/bug', async () => { throw new Error('boom'); });
  const r = await app.inject({ method: 'GET', url: '/range' });
  assert.equal(r.statusCode, 416);
  assert.equal(r.headers['content-range'], 'bytes */10');
  assert.equal(r.headers.etag, undefined);
  assert.equal(r.headers['cache-control'], 'no-store');
  const bug = await app.inject({ method: 'GET', url: '/bug' });
  assert.equal(bug.statusCode, 500);
  await app.close();
});
