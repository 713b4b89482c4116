// The few management-API calls the benchmarks need, over plain fetch.

export const ADMIN_PASSWORD = 'wharf-bench-admin-pw';
export const adminAuth = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

async function api(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${base}/-/api/v1${path}`, {
    method,
    headers: { authorization: adminAuth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export async function createPypiRepo(base: string, name: string): Promise<void> {
  await api(base, 'POST', '/repositories', { name, format: 'pypi', kind: 'hosted', public: true });
}

export async function createToken(base: string, name: string, repos: string[]): Promise<string> {
  const r = (await api(base, 'POST', '/tokens', { name, repos, permission: 'write' })) as { token: string };
  return r.token;
}

/** Bytes of a GET exactly as a client without Accept/Accept-Encoding headers (or with `headers`) receives them. */
export async function rawGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
