// Management API routes are declared once: registered with Fastify (with their JSON schemas
// for validation) and collected into the OpenAPI document served at /-/api/v1/openapi.json.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Below /-/api/v1, Fastify syntax (`/repositories/:name`). */
  url: string;
  summary: string;
  tag: string;
  body?: object;
  querystring?: object;
  /** Raw request body (uploads) instead of JSON. */
  rawBody?: boolean;
  handler(req: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

export const API_PREFIX = '/-/api/v1';

export function registerApiRoutes(app: FastifyInstance, routes: ApiRoute[]): void {
  for (const r of routes) {
    app.route({
      method: r.method,
      url: API_PREFIX + r.url,
      schema: { ...(r.body ? { body: r.body } : {}), ...(r.querystring ? { querystring: r.querystring } : {}) },
      handler: r.handler,
    });
  }
}

export function openApiDocument(routes: ApiRoute[], version: string): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const r of routes) {
    const path = (API_PREFIX + r.url).replace(/:([A-Za-z]+)/g, '{$1}').replace(/\*$/, '{path}');
    const params = [...(API_PREFIX + r.url).matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (r.url.endsWith('*')) params.push({ name: 'path', in: 'path', required: true, schema: { type: 'string' } });
    const query = r.querystring && 'properties' in r.querystring
      ? Object.entries((r.querystring as { properties: Record<string, object> }).properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema }))
      : [];
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      parameters: [...params, ...query],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: r.body } } } } : {}),
      ...(r.rawBody ? { requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } } } : {}),
      responses: { '200': { description: 'OK' }, '4XX': { description: 'Client error: `{"error":{"code","message"}}`' } },
      security: [{ basic: [] }, { bearer: [] }],
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Wharf management API', version },
    components: { securitySchemes: { basic: { type: 'http', scheme: 'basic' }, bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
