// The typed HTTP client for Wharf's management API, used by the CLI and by library users:
//   const c = new WharfClient({ url: 'http://127.0.0.1:8080', token: process.env.WHARF_TOKEN });
//   await c.upload('pypi', 'dist/pkg-1.0-py3-none-any.whl');
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type {
  AuditPage, AuditQuery, BatchUploadResult, FileInfo, PackageDetail, PackageSummary, RepoInfo, RepoStatus, TokenCreated, TokenInfo, UploadResult, UserInfo,
  SnapshotInfo,
} from './types.ts';

export * from './types.ts';

export interface ClientOptions {
  url: string;
  token?: string;
  user?: string;
  password?: string;
}

export class WharfApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'WharfApiError';
    this.status = status;
    this.code = code;
  }
}

/** Files up to this size are read whole and sent from memory. */
const SMALL_FILE_BYTES = 1024 * 1024;

export interface UploadOptions {
  /** Format parameters, e.g. `{ suite: 'stable', component: 'main' }` for APT. */
  fields?: Record<string, string>;
  onProgress?: (sent: number, total: number) => void;
  /** Name to upload under (default: the file's base name). */
  filename?: string;
}

export interface CleanResult {
  dryRun: boolean;
  keep: number;
  removed: { package: string; version: string; files: string[]; bytes: number }[];
  bytes: number;
}

const enc = encodeURIComponent;

export class WharfClient {
  readonly url: string;
  private readonly auth: string | undefined;

  constructor(opts: ClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    if (opts.token) this.auth = `Bearer ${opts.token}`;
    else if (opts.user !== undefined && opts.password !== undefined) {
      this.auth = `Basic ${Buffer.from(`${opts.user}:${opts.password}`).toString('base64')}`;
    }
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.auth ? { authorization: this.auth } : {}), ...extra };
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}/-/api/v1${path}`, {
      method,
      headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return this.parse<T>(res);
  }

  private async parse<T>(res: Response): Promise<T> {
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let data: unknown = undefined;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = undefined;
    }
    if (!res.ok) {
      const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new WharfApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? (text.trim() || res.statusText));
    }
    return data as T;
  }

  /** A GET of any server path (e.g. a repository's pages) with this client's credentials. */
  getRaw(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, { headers: this.headers(headers) });
  }

  health(): Promise<{ status: string; version: string }> {
    return fetch(`${this.url}/-/health`).then((r) => this.parse(r));
  }
  whoami(): Promise<{ user: UserInfo | null; token: TokenInfo | null }> {
    return this.request('GET', '/whoami');
  }

  // repositories
  async listRepos(): Promise<RepoInfo[]> {
    return (await this.request<{ repositories: RepoInfo[] }>('GET', '/repositories')).repositories;
  }
  getRepo(name: string): Promise<RepoInfo> {
    return this.request('GET', `/repositories/${enc(name)}`);
  }
  createRepo(spec: { name: string; format: string; kind?: string; public?: boolean; options?: Record<string, unknown> }): Promise<RepoInfo> {
    return this.request('POST', '/repositories', spec);
  }
  updateRepo(name: string, patch: { public?: boolean; options?: Record<string, unknown> }): Promise<RepoInfo> {
    return this.request('PATCH', `/repositories/${enc(name)}`, patch);
  }
  deleteRepo(name: string): Promise<void> {
    return this.request('DELETE', `/repositories/${enc(name)}`);
  }

  // packages and files
  async listPackages(repo: string): Promise<PackageSummary[]> {
    return (await this.request<{ packages: PackageSummary[] }>('GET', `/repositories/${enc(repo)}/packages`)).packages;
  }
  getPackage(repo: string, name: string): Promise<PackageDetail> {
    return this.request('GET', `/repositories/${enc(repo)}/packages/${enc(name)}`);
  }
  deletePackage(repo: string, name: string): Promise<void> {
    return this.request('DELETE', `/repositories/${enc(repo)}/packages/${enc(name)}`);
  }
  deleteVersion(repo: string, name: string, version: string): Promise<void> {
    return this.request('DELETE', `/repositories/${enc(repo)}/packages/${enc(name)}/versions/${enc(version)}`);
  }
  async listFiles(repo: string, prefix = ''): Promise<FileInfo[]> {
    return (await this.request<{ files: FileInfo[] }>('GET', `/repositories/${enc(repo)}/files?prefix=${enc(prefix)}`)).files;
  }
  deleteFile(repo: string, path: string): Promise<void> {
    return this.request('DELETE', `/repositories/${enc(repo)}/files/${path.split('/').map(enc).join('/')}`);
  }
  action<T = unknown>(repo: string, action: string, args: Record<string, unknown>): Promise<T> {
    return this.request('POST', `/repositories/${enc(repo)}/actions/${enc(action)}`, args);
  }
  /** Run a long action, reporting its progress events; resolves with its result. */
  async actionWithProgress<T = unknown>(repo: string, action: string, args: Record<string, unknown>, onProgress: (event: Record<string, unknown>) => void): Promise<T> {
    const res = await fetch(`${this.url}/-/api/v1/repositories/${enc(repo)}/actions/${enc(action)}`, {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/json', accept: 'application/x-ndjson' }),
      body: JSON.stringify(args),
    });
    if (!res.ok || !res.body) return this.parse<T>(res);
    let buffer = '';
    let outcome: { result?: T; error?: { code: string; status: number; message: string } } | undefined;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += Buffer.from(chunk).toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { progress?: Record<string, unknown>; result?: T; error?: { code: string; status: number; message: string } };
        if (msg.progress) onProgress(msg.progress);
        else outcome = msg;
      }
    }
    if (outcome?.error) throw new WharfApiError(outcome.error.status, outcome.error.code, outcome.error.message);
    if (!outcome || !('result' in outcome)) throw new WharfApiError(502, 'INCOMPLETE', 'the server ended the action without a result');
    return outcome.result as T;
  }
  yank(repo: string, pkg: string, version: string, opts: { reason?: string; filename?: string } = {}) {
    return this.action(repo, 'yank', { package: pkg, version, ...opts });
  }
  unyank(repo: string, pkg: string, version: string, opts: { filename?: string } = {}) {
    return this.action(repo, 'unyank', { package: pkg, version, ...opts });
  }
  /** PyPI (PEP 792): set a hosted project's status (active, archived, quarantined, deprecated), or without `status` read it. */
  projectStatus(repo: string, pkg: string, status?: string, opts: { reason?: string } = {}): Promise<{ package: string; status: string; reason: string | null }> {
    return this.action(repo, 'project-status', { package: pkg, ...(status === undefined ? {} : { status, ...opts }) });
  }
  /**
   * Retention: delete all but the newest `keep` (keepVersions) versions of every package, or of
   * `package`; `keepDays` and `except` (PyPI, files), `prefix` (files). See docs/cli-and-api.md.
   */
  clean(repo: string, opts: { keep: number; keepDays?: number; except?: string[]; dryRun?: boolean; package?: string; prefix?: string }): Promise<CleanResult> {
    return this.action(repo, 'clean', { ...opts });
  }

  /** The fingerprints of the keys that sign a repository now (APT, Arch). */
  async signingKeys(repo: string): Promise<{ fingerprint: string; createdAt: string; retiresAt: string | null }[]> {
    return (await this.request<{ keys: { fingerprint: string; createdAt: string; retiresAt: string | null }[] }>('GET', `/repositories/${enc(repo)}/keys`)).keys;
  }
  /** Sign also with this armored private key until graceDays pass; `added` is false when it signs already. */
  addSigner(repo: string, armoredPrivateKey: string, opts: { passphrase?: string; graceDays?: number } = {}): Promise<{ added: boolean; keys: { fingerprint: string; retiresAt: string | null }[] }> {
    return this.request('POST', `/repositories/${enc(repo)}/keys/add-signer`, { armoredPrivateKey, ...opts });
  }

  /** Upload one file, streamed from disk (constant memory for any size); a small one is sent from memory. */
  async upload(repo: string, file: string, opts: UploadOptions = {}): Promise<UploadResult> {
    const { size } = await stat(file);
    const query = new URLSearchParams({ filename: opts.filename ?? basename(file), ...(opts.fields ?? {}) });
    if (size <= SMALL_FILE_BYTES) {
      // A web stream over a file stream costs more CPU than the upload itself for a small
      // package: an import of thousands of them competes with the server for the cores.
      const bytes = await readFile(file);
      const res = await fetch(`${this.url}/-/api/v1/repositories/${enc(repo)}/upload?${query}`, {
        method: 'POST',
        headers: this.headers({ 'content-type': 'application/octet-stream' }),
        body: bytes,
      });
      opts.onProgress?.(bytes.length, bytes.length);
      return this.parse<UploadResult>(res);
    }
    let sent = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _e, cb) {
        sent += chunk.length;
        opts.onProgress?.(sent, size);
        cb(null, chunk);
      },
    });
    const body = Readable.toWeb(createReadStream(file).pipe(counter)) as ReadableStream<Uint8Array>;
    const res = await fetch(`${this.url}/-/api/v1/repositories/${enc(repo)}/upload?${query}`, {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/octet-stream', 'content-length': String(size) }),
      body,
      duplex: 'half',
    } as RequestInit);
    return this.parse<UploadResult>(res);
  }

  /**
   * Upload several files in one request (a tar stream, built as it is sent); `fields` apply to
   * every file. The answer has one result per file, in order: a refused file does not refuse the others.
   */
  async uploadBatch(repo: string, files: string[], opts: { fields?: Record<string, string>; fieldsOf?: (file: string) => Record<string, string> | undefined } = {}): Promise<BatchUploadResult> {
    const pack = tar.pack();
    const feed = (async () => {
      for (const file of files) {
        const { size } = await stat(file);
        // One file's own parameters (e.g. a migration's uploadedAt) travel in its pax record.
        const own = opts.fieldsOf?.(file);
        const pax = own && Object.keys(own).length ? { pax: { 'WHARF.query': new URLSearchParams(own).toString() } } : {};
        if (size <= SMALL_FILE_BYTES) {
          const bytes = await readFile(file);
          await new Promise<void>((res, rej) => pack.entry({ name: basename(file), size: bytes.length, ...pax }, bytes, (e) => (e ? rej(e) : res())));
        } else {
          const entry = pack.entry({ name: basename(file), size, ...pax });
          await pipeline(createReadStream(file), entry as unknown as NodeJS.WritableStream);
        }
      }
      pack.finalize();
    })();
    feed.catch((err: Error) => pack.destroy(err));
    const query = new URLSearchParams(opts.fields ?? {});
    const res = await fetch(`${this.url}/-/api/v1/repositories/${enc(repo)}/batch?${query}`, {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/x-tar' }),
      body: Readable.toWeb(Readable.from(pack as unknown as AsyncIterable<Buffer>)) as ReadableStream<Uint8Array>,
      duplex: 'half',
    } as RequestInit);
    const parsed = await this.parse<BatchUploadResult>(res);
    await feed;
    return parsed;
  }

  /** Download a file of a repository (its path below the repository) to `dest`. */
  async download(repo: string, path: string, dest: string, onProgress?: (got: number, total: number) => void): Promise<number> {
    const res = await fetch(`${this.url}/${enc(repo)}/${path.split('/').map(enc).join('/')}`, { headers: this.headers() });
    if (!res.ok || !res.body) {
      const text = await res.text();
      throw new WharfApiError(res.status, `HTTP_${res.status}`, text.trim() || res.statusText);
    }
    const total = Number(res.headers.get('content-length') ?? 0);
    let got = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _e, cb) {
        got += chunk.length;
        onProgress?.(got, total);
        cb(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), counter, createWriteStream(dest));
    return got;
  }

  // server
  status(): Promise<{ version: string; repositories: RepoStatus[] }> {
    return this.request('GET', '/status');
  }
  /** Free unreferenced blobs; `graceSeconds` overrides the server's grace period; `dryRun` only counts them. */
  gc(graceSeconds?: number, opts: { dryRun?: boolean } = {}): Promise<{ blobs: number; bytes: number; kept: number; dryRun?: true }> {
    const query = new URLSearchParams({ ...(graceSeconds === undefined ? {} : { graceSeconds: String(graceSeconds) }), ...(opts.dryRun ? { dryRun: 'true' } : {}) });
    return this.request('POST', query.size ? `/gc?${query}` : '/gc');
  }

  /** Have the server write a consistent copy of its data into `dir`, a path on the server's machine. */
  backup(dir: string, opts: { link?: boolean } = {}): Promise<{ dir: string; files: number; blobs: number; bytes: number; linked: number; durationMs: number }> {
    return this.request('POST', '/backup', { dir, ...(opts.link === undefined ? {} : { link: opts.link }) });
  }

  /** One page of the audit trail, newest first (administrators, or a repository's admins with `repo`). */
  // named snapshots (time travel): served at /<repo>/@<name>/
  async listSnapshots(repo: string): Promise<SnapshotInfo[]> {
    return (await this.request<{ snapshots: SnapshotInfo[] }>('GET', `/repositories/${enc(repo)}/snapshots`)).snapshots;
  }
  createSnapshot(repo: string, name: string, at?: string): Promise<SnapshotInfo> {
    return this.request('POST', `/repositories/${enc(repo)}/snapshots`, at === undefined ? { name } : { name, at });
  }
  deleteSnapshot(repo: string, name: string): Promise<void> {
    return this.request('DELETE', `/repositories/${enc(repo)}/snapshots/${enc(name)}`);
  }
  /** Forget a deleted path from every instant and snapshot of a hosted repository (server administrators). */
  purgeHistory(repo: string, path: string): Promise<{ path: string; rows: number }> {
    return this.request('POST', `/repositories/${enc(repo)}/history/purge`, { path });
  }

  audit(q: AuditQuery = {}): Promise<AuditPage> {
    const query = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined).map(([k, v]): [string, string] => [k, String(v)]));
    return this.request('GET', query.size ? `/audit?${query}` : '/audit');
  }

  // users and tokens
  async listUsers(): Promise<UserInfo[]> {
    return (await this.request<{ users: UserInfo[] }>('GET', '/users')).users;
  }
  /** Without a password (undefined), only a token minted for the user logs in until one is set. */
  createUser(name: string, password: string | undefined, admin = false): Promise<UserInfo> {
    return this.request('POST', '/users', { name, ...(password === undefined ? {} : { password }), admin });
  }
  /** A user whose password hash comes from another tool (bcrypt, {SHA}, apr1: checked once, then scrypt). */
  importUser(name: string, passwordHash: string, admin = false): Promise<UserInfo> {
    return this.request('POST', '/users', { name, passwordHash, admin });
  }
  updateUser(name: string, patch: { password?: string; admin?: boolean }): Promise<UserInfo> {
    return this.request('PATCH', `/users/${enc(name)}`, patch);
  }
  deleteUser(name: string): Promise<void> {
    return this.request('DELETE', `/users/${enc(name)}`);
  }
  grant(name: string, repo: string, permission: 'read' | 'write' | 'admin' | null): Promise<UserInfo> {
    return this.request('PUT', `/users/${enc(name)}/grants`, { repo, permission });
  }
  async listTokens(all = false): Promise<TokenInfo[]> {
    return (await this.request<{ tokens: TokenInfo[] }>('GET', `/tokens${all ? '?all=true' : ''}`)).tokens;
  }
  createToken(spec: { name: string; repos?: string[]; permission?: 'read' | 'write' | 'admin'; expiresInDays?: number; user?: string }): Promise<TokenCreated> {
    return this.request('POST', '/tokens', spec);
  }
  revokeToken(id: string): Promise<void> {
    return this.request('DELETE', `/tokens/${enc(id)}`);
  }
}
