#!/usr/bin/env bash
# Prints the Debian archive this machine's apt uses (its first `deb` URI that is not a security
# archive), so that debootstrap fetches from the same place. Nothing is hard-coded here.
set -uo pipefail
uris=$(
  cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -nE 's/^[[:space:]]*URIs:[[:space:]]*//p' | tr ' ' '\n'
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | sed -nE 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p'
)
mirror=$(printf '%s\n' "$uris" | grep -E '^(https?|file):' | grep -v -- '-security' | head -n 1)
[ -n "$mirror" ] || { echo "debian-mirror: no Debian archive in the apt sources" >&2; exit 1; }
echo "$mirror"
