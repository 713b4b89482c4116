// Shared by the APT tests: .debs built by dpkg-deb, and a private apt
// configuration (APT_CONFIG) whose only source is the Wharf repository under test.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run, type RunResult } from './clients.ts';

export async function buildDeb(dir: string, name: string, control: string, opts: { nocheck?: boolean; compression?: string } = {}): Promise<string> {
  const root = path.join(dir, `${name}.root`);
  await mkdir(path.join(root, 'DEBIAN'), { recursive: true });
  await mkdir(path.join(root, 'usr/share/doc', name), { recursive: true });
  await writeFile(path.join(root, 'DEBIAN', 'control'), control);
  await writeFile(path.join(root, 'usr/share/doc', name, 'README'), `${name}\n`);
  const out = path.join(dir, `${name}.deb`);
  const args = ['--root-owner-group', `-Z${opts.compression ?? 'xz'}`, ...(opts.nocheck ? ['--nocheck'] : []), '--build', root, out];
  execFileSync('dpkg-deb', args, { stdio: 'pipe' });
  return out;
}

export const control = (name: string, version: string, extra = '', arch = 'amd64') =>
  `Package: ${name}\nVersion: ${version}\nArchitecture: ${arch}\nMaintainer: Test <t@example.com>\n${extra}Description: test package ${name}\n A package for Wharf's tests.\n`;

export interface AptEnv {
  dir: string;
  apt(...args: string[]): Promise<RunResult>;
}

/** A private apt set-up (CLIENTS.md): sources, key and credentials of our choosing only. */
export async function aptEnv(dir: string, o: { url: string; suite: string; component: string; keyFile: string; auth?: { machine: string; login: string; password: string } }): Promise<AptEnv> {
  const A = path.join(dir, 'apt');
  const R = path.join(A, 'root');
  for (const d of ['etc/apt/sources.list.d', 'etc/apt/apt.conf.d', 'etc/apt/preferences.d', 'etc/apt/auth.conf.d', 'state/lists/partial', 'cache/archives/partial', 'log']) {
    await mkdir(path.join(A, d), { recursive: true });
  }
  await mkdir(path.join(R, 'var/lib/dpkg/updates'), { recursive: true });
  await mkdir(path.join(R, 'var/lib/dpkg/info'), { recursive: true });
  await writeFile(path.join(R, 'var/lib/dpkg/status'), '');
  await writeFile(path.join(A, 'apt.conf'), [
    `Dir::Etc "${A}/etc/apt"; Dir::State "${A}/state"; Dir::State::status "${R}/var/lib/dpkg/status";`,
    `Dir::Cache "${A}/cache"; Dir::Log "${A}/log"; Debug::NoLocking "true";`,
    'APT::Architectures { "amd64"; }; APT::Sandbox::User "root"; Acquire::Languages "none";',
    '',
  ].join('\n'));
  await writeFile(path.join(A, 'etc/apt/sources.list.d/wharf.sources'),
    `Types: deb\nURIs: ${o.url}\nSuites: ${o.suite}\nComponents: ${o.component}\nSigned-By: ${o.keyFile}\n`);
  if (o.auth) {
    await writeFile(path.join(A, 'etc/apt/auth.conf.d/wharf.conf'), `machine ${o.auth.machine}\nlogin ${o.auth.login}\npassword ${o.auth.password}\n`, { mode: 0o600 });
  }
  const env = { ...process.env, APT_CONFIG: path.join(A, 'apt.conf') };
  return { dir: A, apt: (...args: string[]) => run(args[0], args.slice(1), { env }) };
}

/** apt's warnings and errors (`W:`/`E:` lines) in a command's output. */
export const problems = (r: RunResult) => `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /^(W|E|Err):?/.test(l));
