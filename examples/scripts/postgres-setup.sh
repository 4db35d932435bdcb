#!/usr/bin/env bash
# Installs (Debian/Ubuntu, as root), starts a local PostgreSQL on 127.0.0.1:5432 and creates the
# role and database the fenced-writer example and its test use: user haraft, password haraft,
# database haraft. Safe to run twice.
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  if [ "$(id -u)" != "0" ]; then
    echo "PostgreSQL is not installed. Run this script as root (it uses apt-get), or install PostgreSQL yourself." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
if command -v pg_lsclusters >/dev/null 2>&1; then
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
    pg_createcluster "$version" main >/dev/null
  fi
  pg_ctlcluster "$version" main start 2>/dev/null || true
fi

for i in $(seq 1 50); do
  if su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1; then break; fi
  sleep 0.2
done

su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='haraft'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"create role haraft login password 'haraft'\""
su postgres -c "psql -qtAc \"select 1 from pg_database where datname='haraft'\"" | grep -q 1 \
  || su postgres -c "psql -qc 'create database haraft owner haraft'"
echo "PostgreSQL $version is running on 127.0.0.1:5432 (database haraft, user haraft)"
