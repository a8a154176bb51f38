#!/usr/bin/env bash
# Prints the SHA-256 hash of an API key, as ApiKeys:Keys:{name}:Hash expects it.
#
#   scripts/hash-api-key.sh                 reads the key from standard input (not echoed)
#   scripts/hash-api-key.sh --new NAME ROLE generates a new random key and prints the key
#                                           (hand it to the client, once) and the settings
#                                           to add (they hold only the hash)
#
# The key is never taken as an argument, so it stays out of shell history and `ps`.
set -euo pipefail

hash() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

if [ "${1:-}" = "--new" ]; then
  name=${2:?usage: hash-api-key.sh --new NAME ROLE}
  role=${3:?usage: hash-api-key.sh --new NAME ROLE (ingest, read or admin)}
  case "$role" in ingest|read|admin) ;; *) echo "ROLE must be ingest, read or admin" >&2; exit 2 ;; esac
  if ! [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]]; then
    echo "NAME must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit" >&2; exit 2
  fi
  key="cmx_$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  digest=$(hash "$key")
  cat <<OUT
Key (give it to the client; it is not stored anywhere):
  $key

Settings (environment):
  ApiKeys__Keys__${name}__Role=$role
  ApiKeys__Keys__${name}__Hash=$digest

Or in the keys file (ApiKeys:KeysFile):
  { "ApiKeys": { "Keys": { "$name": { "Role": "$role", "Hash": "$digest" } } } }
OUT
  exit 0
fi

if [ -t 0 ]; then
  read -r -s -p "API key: " key
  echo >&2
else
  IFS= read -r key || true
fi
[ -n "$key" ] || { echo "no key given" >&2; exit 2; }
hash "$key"
