#!/usr/bin/env bash
# Installs what the test suite drives, on a fresh Debian machine (as root): the real clients
# (twine, pip's python, apt/dpkg, pacman, curl, gpg; reprepro, aptly and makepkg as the sources of `wharf migrate-from`; htpasswd and what pypiserver's and bandersnatch's sources run on; Docker, debootstrap, docker-compose and
# systemd-analyze for the deployment tests; nginx in front of several replicas, nginx and Caddy before the static tree; PostgreSQL 15, whose clusters the tests make
# themselves in temporary directories) and the project's npm dependencies
# (which include Node 24 itself). Safe to run again: it installs only what is missing.
# scripts/test-preflight.sh (run by npm test) names anything still missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every package whose programs the tests run; scripts/test-preflight.sh checks the programs.
debs=(twine nginx caddy pacman-package-manager makepkg libarchive-tools zstd xz-utils bzip2 gzip tar curl wget
  gpg gpgv gnupg gpg-agent dpkg dpkg-dev apt apt-utils ca-certificates chromium python3 python3-pip
  openssl pebble postgresql-15 reprepro aptly
  docker.io debootstrap docker-compose systemd
  # devpi-server, run from its public source by the devpi migration test (test/helpers/devpi.ts)
  python3-venv python3-setuptools python3-wheel python3-packaging python3-requests python3-defusedxml
  python3-pyramid python3-repoze.lru python3-strictyaml python3-ruamel.yaml python3-argon2 python3-attr
  python3-httpx python3-itsdangerous python3-lazy python3-platformdirs python3-pluggy python3-py
  python3-passlib python3-waitress
  # pypiserver, run from its public source by the pypiserver migration test, and htpasswd
  apache2-utils python3-bcrypt
  # bandersnatch, run from its public source by the bandersnatch migration test
  python3-aiohttp python3-aiohttp-socks python3-filelock python3-humanfriendly)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  # The tests run initdb/pg_ctl themselves: no system cluster or service for Debian to set up.
  if [[ " ${missing[*]} " == *" postgresql-15 "* && ! -e /etc/postgresql-common/createcluster.conf ]]; then
    mkdir -p /etc/postgresql-common
    echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
  fi
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # confold: keep a createcluster.conf written above over the one postgresql-common ships.
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
fi

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
