// Assembles the HTTP server: the core, authentication, the management API, and the
// repository routes of every format.
import multipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { FormatPlugin } from '../core/format-plugin.ts';
import { isWharfError } from '../core/errors.ts';
import { Wharf } from '../core/wharf.ts';
import { openDatabase } from '../db/database.ts';
import { Store } from '../db/store.ts';
import { formats as defaultFormats } from '../formats/index.ts';
import { lockDataDir, type DataDirLock } from '../storage/data-dir-lock.ts';
import { createBlobStore } from '../storage/open-blob-store.ts';
import { WHARF_VERSION } from '../version.ts';
import { packageRoutes } from './api/packages.ts';
import { openApiDocument, registerApiRoutes, API_PREFIX, type ApiRoute } from './api/define.ts';
import { repositoryKeyRoutes, repositoryRoutes } from './api/repositories.ts';
import { systemRoutes } from './api/system.ts';
import { userRoutes } from './api/users.ts';
import { auditRoutes } from './api/audit.ts';
import { snapshotRoutes } from './api/snapshots.ts';
import { registerAuditContext } from './audit-context.ts';
import { registerAuth } from './auth-hook.ts';
import { ConfigError, redactDatabaseUrl, type Config } from './config.ts';
import { errorHandler } from './error-handler.ts';
import { ExtraListeners } from './extra-listeners.ts';
import { prettyDestination } from './log-pretty.ts';
import { registerMetrics } from './metrics.ts';
import { watchBodyIdle } from './http/body-timeout.ts';
import { SendIdleTimeout } from './http/send-timeout.ts';
import { ResponseCache } from './http/response-cache.ts';
import { registerAccountPages } from './pages/account.ts';
import { registerAdminPages } from './pages/admin.ts';
import { pageKit, registerFormScope } from './pages/form-routes.ts';
import { createPages } from './pages/index.ts';
import { registerRepoRoutes } from './repo-router.ts';
import { Scheduler } from './scheduler.ts';
import { TlsService } from './tls/tls-service.ts';

/** Pino options: JSON lines, or readable lines when asked or when standard output is a terminal. */
export function loggerOptions(config: Pick<Config, 'logLevel' | 'logFormat'>, stdout: NodeJS.WriteStream = process.stdout): { level: string; stream?: { write(s: string): boolean } } {
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && stdout.isTTY === true);
  return pretty ? { level: config.logLevel, stream: prettyDestination(stdout, { color: stdout.isTTY === true }) } : { level: config.logLevel };
}

/** A repository the configuration declares that the core refuses, named by its JSON path. */
function repoConfigError(path: string, name: string, message: string): ConfigError {
  // The formats say `unknown option "x" for …` or `unknown option suites.main.x`.
  const m = /^unknown option "?([^"\s;]+)"?(.*)$/.exec(message);
  if (m) return new ConfigError(`${path}.options.${m[1]}: unknown option${m[2]}`);
  return new ConfigError(`${path} (${name}): ${message}`);
}

/** One line per request, written when it is answered, instead of Fastify's two. */
class OneLineRequestLog extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null, req: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(req)) return;
    if (error) reply.log.error({ req, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req, res: reply, responseTime: reply.elapsedTime }, 'request');
  }
}

export interface WharfServer {
  app: FastifyInstance;
  wharf: Wharf;
  /** Repositories served at the root of ports of their own (`listen`). */
  listeners: ExtraListeners;
  scheduler: Scheduler;
  /** Set when the admin password was generated at this start: shown once. */
  generatedAdminPassword: string | null;
  /** HTTPS certificates (files or ACME), when configured. */
  tls: TlsService | null;
}

// Uploads of many GB can take long (no request timeout; a stalled body is cut by
// bodyIdleTimeout instead); keep-alive for clients such as apt and pip that fetch many
// index files over one connection.
const REQUEST_TIMEOUT_MS = 0;
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Form fields larger than this are refused (a twine description is far smaller). */
const MAX_FORM_FIELD_BYTES = 1024 * 1024;
const MiB = 1024 * 1024;

/**
 * `pages: false`: no pages for browsers (every request gets what package clients get).
 * `worker`: this process is worker `slot` of `wharf serve --workers` (src/server/workers.ts):
 * the primary holds the data directory's lock for it, and it stages uploads in a directory of
 * its own, which it alone empties at start.
 */
export interface BuildOptions { formats?: FormatPlugin[]; logger?: boolean | object; pages?: boolean; worker?: { slot: number } }

/** Where worker `slot` stages uploads: below <data>/blobs/tmp, which the primary empties at start. */
export function workerStaging(data: string, slot: number): string {
  return join(data, 'blobs', 'tmp', `worker-${slot}`);
}

export async function buildServer(config: Config, opts: BuildOptions = {}): Promise<WharfServer> {
  // Before anything touches the data directory: a second process must not empty blobs/tmp
  // under the first one's uploads (throws DataDirLockedError naming the holder).
  const lock: DataDirLock = opts.worker ? heldByPrimary(config.data) : lockDataDir(config.data, 'serve');
  try {
    return await assemble(config, opts, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** A worker's stand-in for the lock its primary holds (and releases when every worker is gone). */
function heldByPrimary(dir: string): DataDirLock {
  return { dir, holder: { pid: process.ppid, host: hostname(), since: new Date().toISOString(), command: 'serve --workers' }, release() {} };
}

async function assemble(config: Config, opts: BuildOptions, lock: DataDirLock): Promise<WharfServer> {
  const plugins = opts.formats ?? defaultFormats;
  const responseCache = new ResponseCache(config.responseCacheMiB * MiB);
  // Every request first applies what changed in the database since the last one (the change
  // feed): another process's upload or delete is served at once, cached answers included.
  // Set once the core is open; no request arrives before (the server is not listening yet).
  let catchUp: () => Promise<void> = () => Promise.resolve();
  let aliasedPath: (url: string) => string | undefined = () => undefined;
  const tls = TlsService.fromConfig(config);
  const sendTimeout = new SendIdleTimeout({ sendIdleMs: config.sendIdleTimeout * 1000, maxConnections: Math.floor(config.maxConnections) });
  const app = Fastify({
    // Anonymous reads of published indexes are answered before Fastify when they can be.
    serverFactory: (handler) => {
      const listener = (req: IncomingMessage, res: ServerResponse) => {
        sendTimeout.track(req, res);
        const route = () => {
          watchBodyIdle(req, res, config.bodyIdleTimeout * 1000, app.log);
          handler(req, res);
        };
        // The one wait every request pays: the response cache is asked only once the changes
        // are applied (its generation then counts them), so it never answers from before them.
        // `void`: both outcomes are handled here; the request goes on in them.
        void catchUp().then(
          () => {
            // A repository's alias (a migrated devpi index's /user/index/) means its own path.
            const aliased = req.url && aliasedPath(req.url);
            if (aliased) req.url = aliased;
            if (!responseCache.tryServe(req, res)) route();
          },
          (err: unknown) => {
            // The database failed: no cached answer (it may be stale); the route reports the error.
            app.log.error({ err }, 'cannot read the change feed');
            route();
          },
        );
      };
      const server = tls ? tls.createServer(listener) : createServer(listener);
      // Fastify applies its timeouts only to servers it creates itself.
      server.requestTimeout = REQUEST_TIMEOUT_MS;
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      // A client that stops reading a response is disconnected after sendIdleTimeout.
      sendTimeout.attach(server);
      return server;
    },
    logger: opts.logger ?? loggerOptions(config),
    logController: new OneLineRequestLog(),
    bodyLimit: 4 * 1024 * 1024,
    routerOptions: { maxParamLength: 500 },
    // Unknown fields in an API body are an error to report, not something to drop silently.
    ajv: { customOptions: { removeAdditional: false } },
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // req.ip is the real client only behind proxies the operator named: X-Forwarded-For from
    // anyone else is ignored, or any client could pick the address the login throttle counts.
    trustProxy: config.trustedProxies.length ? config.trustedProxies : false,
  });
  sendTimeout.setLog(app.log);
  // onClose hooks run last-registered first: this one runs after every other has finished.
  app.addHook('onClose', async () => lock.release());
  const store = new Store(await openDatabase(config.database ?? join(config.data, 'wharf.db')));
  // Runs after every hook registered later (the publisher's flush, listeners): closed last,
  // SQLite folds its write-ahead log back into wharf.db; PostgreSQL's pools end.
  app.addHook('onClose', async () => store.sql.close());
  if (config.database) app.log.info({ database: redactDatabaseUrl(config.database) }, 'metadata in PostgreSQL');
  // Every upload path (twine, PUT, the API, proxied content) is bounded by maxUploadBytes.
  const staging = opts.worker ? workerStaging(config.data, opts.worker.slot) : undefined;
  const blobs = createBlobStore(config.data, config, { maxBytes: config.maxUploadBytes, staging });
  await blobs.init();
  const wharf = await Wharf.open(store, blobs, plugins, app.log, { indexBytes: config.indexCacheMiB * MiB, memoBytes: config.upstreamCacheMiB * MiB });
  wharf.gcGraceMs = config.gcGraceSeconds * 1000;
  wharf.sessions.options = { idleMs: config.sessionIdleTimeout * 1000, maxAgeMs: config.sessionMaxAge * 1000 };
  app.decorate('responseCache', responseCache);
  app.decorate('cacheUsage', wharf.cacheUsage);
  wharf.publisher.onPublished = () => responseCache.invalidate();
  wharf.onReposChanged(() => responseCache.invalidate());
  wharf.feed.subscribe({
    apply: (changes) => { if (changes.some((c) => c.kind === 'index' || c.kind === 'repo' || c.kind === 'history')) responseCache.invalidate(); },
    reset: () => responseCache.invalidate(),
  });
  catchUp = () => wharf.feed.catchUp();
  aliasedPath = (url) => wharf.aliasedPath(url);
  responseCache.onServed = (req, status) => {
    if (['trace', 'debug', 'info'].includes(app.log.level)) app.log.info({ req: { method: req.method, url: req.url }, res: { statusCode: status }, cached: true }, 'request answered from the response cache');
  };

  // Replicas started together on an empty database (docs/scale-out.md) take turns here, or
  // each would see no admin and no repository and all but one would fail to create them.
  const generatedAdminPassword = await store.sql.lock('first-start', async () => {
    // What the one before wrote (its repositories) is in this process's memory too.
    await wharf.feed.catchUp();
    const firstStart = (await store.countUsers()) === 0;
    const generated = await wharf.bootstrapAdmin(config.adminPassword);
    if (config.adminPassword && !firstStart) {
      // Said out loud: a password that silently does nothing makes the next login fail for no visible reason.
      app.log.warn({ data: config.data }, 'WHARF_ADMIN_PASSWORD (adminPassword) is ignored: users already exist in this data directory, and it only sets the password of "admin" on the first start; change it with `wharf user passwd admin`');
    }
    for (const [i, spec] of config.repositories.entries()) {
      try {
        await wharf.ensureRepo(spec);
      } catch (err) {
        if (!isWharfError(err)) throw err;
        throw repoConfigError(`repositories[${i}]`, spec.name, err.message);
      }
    }
    if (wharf.listRepos().length === 0 && config.repositories.length === 0 && !(await store.getSetting('initialized'))) {
      await wharf.createRepo({ name: 'pypi', format: 'pypi', kind: 'hosted', public: true });
    }
    await store.setSetting('initialized', new Date().toISOString());
    return generated;
  });
  await wharf.recover();
  if (config.staticDir) {
    await wharf.enableStaticTree(config.staticDir);
    app.log.info({ staticDir: config.staticDir }, 'public hosted repositories are written to the static tree');
  }

  app.setErrorHandler(errorHandler);
  registerAuth(app, wharf);
  // Before any route that writes: each handler runs as its request's actor (audit trail).
  registerAuditContext(app);

  // Health checks and scrapes come every few seconds: logged from warn up only.
  app.get('/-/health', { logLevel: 'warn' }, async () => ({ status: 'ok', version: WHARF_VERSION }));
  registerMetrics(app, wharf, responseCache);

  const apiRoutes: ApiRoute[] = [
    ...repositoryRoutes(wharf),
    ...repositoryKeyRoutes(wharf),
    ...packageRoutes(wharf, config.maxUploadBytes),
    ...userRoutes(wharf),
    ...systemRoutes(wharf, WHARF_VERSION, config.data),
    ...auditRoutes(wharf),
    ...snapshotRoutes(wharf),
  ];
  const openapi = openApiDocument(apiRoutes, WHARF_VERSION);
  await app.register(async (api) => {
    // Uploads through the API stream their raw body to the blob store.
    api.addContentTypeParser(['application/octet-stream', 'application/x-tar'], (_req, _payload, done) => done(null));
    registerApiRoutes(api, apiRoutes);
    api.get(`${API_PREFIX}/openapi.json`, async () => openapi);
  });

  if (opts.pages !== false) {
    // Sign-in, tokens and administration: forms with urlencoded bodies and CSRF tokens.
    await app.register(async (forms) => {
      registerFormScope(forms, WHARF_VERSION);
      const kit = pageKit(forms, wharf, WHARF_VERSION);
      registerAccountPages(kit);
      registerAdminPages(kit);
    });
  }

  const pages = opts.pages === false ? undefined : createPages(wharf, plugins, WHARF_VERSION);
  await app.register(async (repos) => {
    // Repository routes read bodies themselves (streams, multipart), never buffered by Fastify.
    repos.removeAllContentTypeParsers();
    repos.addContentTypeParser('*', (_req, _payload, done) => done(null));
    await repos.register(multipart, {
      // Keep the filename as sent, so a path in it is refused rather than silently cut off.
      preservePath: true,
      limits: { fieldSize: MAX_FORM_FIELD_BYTES, fields: 200, files: 2, parts: 210, fileSize: config.maxUploadBytes, headerPairs: 200 },
    });
    registerRepoRoutes(repos, wharf, plugins, pages);
  });
  // The pages' own URLs below /-/ (packages, search, static files).
  if (pages) await app.register(async (scope) => pages.register(scope));

  // Repositories on ports of their own are served over HTTPS too, with the same certificate.
  // Each gets the main server's connection limits (send idle timeout, maxConnections).
  const listeners = new ExtraListeners(app, wharf, config.host, tls ? (listener) => tls.createServer(listener) : undefined, (server) => sendTimeout.attach(server));
  const scheduler = new Scheduler(wharf, app.log);
  scheduler.auditKeepDays = config.auditKeepDays;
  app.addHook('onListen', async () => {
    await listeners.sync();
    wharf.onReposChanged(() => void listeners.sync());
    // WHARF_SCHEDULER_TICK_MS: for tests only (a shorter tick than the default 30 s), not a setting.
    const tickMs = Number(process.env.WHARF_SCHEDULER_TICK_MS);
    scheduler.start(tickMs > 0 ? tickMs : undefined);
    void scheduler.tick();
  });
  app.addHook('onClose', async () => {
    scheduler.stop();
    await wharf.cacheUsage.settled();
    await wharf.cacheUsage.flush().catch(() => {}); // uses not yet written: lost, at worst an earlier eviction
    await wharf.publisher.flush();
    await wharf.settleStatic();
    await listeners.close();
  });

  if (tls) {
    // The certificate is there (read, or ordered over ACME) before the server listens.
    await tls.start(app.log);
    app.addHook('onClose', async () => tls.close());
  }

  return { app, wharf, generatedAdminPassword, listeners, scheduler, tls };
}
