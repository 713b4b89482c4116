#!/usr/bin/env bash
# Checks that every program the tests drive is here, before any test runs: a missing tool
# fails the run with its name and its Debian package, instead of tests that skip or fail
# far from the cause. scripts/install-test-deps.sh installs them all.
set -uo pipefail
cd "$(dirname "$0")/.."

# program (a name on PATH, or an absolute path)  Debian package  what needs it
tools=(
  "bsdtar libarchive-tools arch packages and databases"
  "zstd zstd arch packages"
  "xz xz-utils arch/apt compression"
  "bzip2 bzip2 apt/arch compression"
  "gzip gzip compression"
  "tar tar sdists"
  "dpkg-deb dpkg building .deb fixtures"
  "dpkg-scanpackages dpkg-dev Packages cross-check"
  "apt-ftparchive apt-utils Packages cross-check"
  "apt-get apt apt client tests"
  "gpg gpg signing tests"
  "gpgv gpgv signature checks"
  "gpg-agent gpg-agent pacman-key"
  "pacman pacman-package-manager pacman client tests"
  "pacman-key pacman-package-manager pacman keyring"
  "repo-add pacman-package-manager repo-add cross-check"
  "makepkg makepkg migrate-from repo-add test (builds packages)"
  "reprepro reprepro migrate-from reprepro test and bench"
  "aptly aptly migrate-from aptly test"
  "runuser util-linux makepkg as a non-root user"
  "/usr/bin/vercmp makepkg vercmp cross-check"
  "/usr/bin/python3 python3 wheel metadata cross-check"
  "python3 python3 pip and packaging oracles"
  "twine twine upload tests"
  "curl curl HTTP client tests"
  "wget wget files client test"
  "/usr/bin/chromium chromium browser tests"
  "openssl openssl TLS test certificates"
  "htpasswd apache2-utils htpasswd files for the pypiserver migration test"
  "pebble pebble ACME end-to-end test"
  "docker docker.io Docker image test"
  "/usr/sbin/dockerd docker.io Docker image test (started if not running)"
  "debootstrap debootstrap Docker image test's Debian 12 base"
  "docker-compose docker-compose compose examples"
  "systemd-analyze systemd systemd unit check"
  "/usr/lib/postgresql/15/bin/initdb postgresql-15 PostgreSQL tests (a cluster per test run)"
  "/usr/lib/postgresql/15/bin/pg_ctl postgresql-15 PostgreSQL tests (a cluster per test run)"
  "/usr/sbin/nginx nginx the load balancer before several replicas, and before the static tree"
  "/usr/bin/caddy caddy Caddy before the static tree"
)

missing=()
packages=()
for entry in "${tools[@]}"; do
  read -r prog pkg why <<<"$entry"
  if [[ $prog == /* ]]; then [[ -x $prog ]] && continue; else command -v "$prog" >/dev/null 2>&1 && continue; fi
  missing+=("$prog ($pkg: $why)")
  packages+=("$pkg")
done
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import pip._internal.index.collector, pip._vendor.packaging.markers' >/dev/null 2>&1; then
  missing+=("python3's pip module (python3-pip: pip client tests and packaging oracles)")
  packages+=(python3-pip)
fi
# devpi-server (run from its public source by the devpi migration test) imports these from
# Debian's own Python.
devpi_debs=(python3-venv python3-setuptools python3-wheel python3-packaging python3-requests python3-defusedxml
  python3-pyramid python3-repoze.lru python3-strictyaml python3-ruamel.yaml python3-argon2 python3-attr
  python3-httpx python3-itsdangerous python3-lazy python3-platformdirs python3-pluggy python3-py
  python3-passlib python3-waitress)
if [[ -x /usr/bin/python3 ]] && ! /usr/bin/python3 -c 'import ensurepip, setuptools, wheel, packaging, requests, defusedxml, pyramid, repoze.lru, strictyaml, ruamel.yaml, argon2, attr, httpx, itsdangerous, lazy, platformdirs, pluggy, py, passlib, waitress' >/dev/null 2>&1; then
  missing+=("Debian's Python modules for devpi-server (the devpi migration test)")
  packages+=("${devpi_debs[@]}")
fi
if [[ -x /usr/bin/python3 ]] && ! /usr/bin/python3 -c 'import passlib, bcrypt, defusedxml' >/dev/null 2>&1; then
  missing+=("Debian python3's passlib, bcrypt, defusedxml (python3-passlib python3-bcrypt python3-defusedxml: pypiserver in the migration test)")
  packages+=(python3-passlib python3-bcrypt python3-defusedxml)
fi
if [[ -x /usr/bin/python3 ]] && ! /usr/bin/python3 -c 'import aiohttp, aiohttp_socks, filelock, humanfriendly, packaging, venv, ensurepip' >/dev/null 2>&1; then
  missing+=("Debian python3's aiohttp, aiohttp-socks, filelock, humanfriendly, packaging, venv (bandersnatch in the migration test)")
  packages+=(python3-aiohttp python3-aiohttp-socks python3-filelock python3-humanfriendly python3-packaging python3-venv)
fi
node_major=$(node_modules/.bin/node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 24)); then
  missing+=("Node.js 24 in node_modules/.bin/node (run: npm ci)")
fi

if ((${#missing[@]})); then
  echo "test preflight: ${#missing[@]} missing; no test was run:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  if ((${#packages[@]})); then
    echo "install them with: bash scripts/install-test-deps.sh (as root), or apt-get install $(printf '%s\n' "${packages[@]}" | sort -u | tr '\n' ' ')" >&2
  fi
  exit 1
fi
echo "test preflight: all ${#tools[@]} tools and pip are here"
