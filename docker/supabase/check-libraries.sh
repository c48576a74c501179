#!/bin/sh
# check-libraries.sh LIBRARY [SERVER]: fails unless every shared library LIBRARY needs resolves,
# with the symbol versions it asks for, through the dynamic loader the PostgreSQL server itself
# runs with. SERVER is the server's executable (default: `postgres` on PATH). In supabase/postgres
# that is a wrapper script around a Nix-built binary whose loader and C library live in the Nix
# store, not the image's /lib: asking the system's ldd would check the wrong ones.
set -eu
library=${1:?usage: check-libraries.sh LIBRARY [SERVER]}
server=${2:-$(command -v postgres)}
[ -f "$library" ] || { echo "check-libraries: no such library: $library" >&2; exit 1; }

# A wrapper script (Nix's makeWrapper) ends by exec'ing the real binary: follow it.
server=$(readlink -f "$server")
while head -c 2 "$server" | grep -q '^#!'; do
    wrapped=$(grep -o '/[^" ]*' "$server" | grep -v '^/bin/\|^/usr/bin/' | while read -r path; do
        [ -x "$path" ] && [ ! -d "$path" ] && echo "$path"
    done | tail -n 1)
    [ -n "$wrapped" ] || { echo "check-libraries: cannot find the binary $server runs" >&2; exit 1; }
    server=$(readlink -f "$wrapped")
done

# The ELF interpreter (PT_INTERP) is the first loader path in the binary.
loader=$(grep -ao '/[[:alnum:]/._+-]*/ld-linux[[:alnum:]._-]*\.so\.[0-9]*' "$server" | head -n 1)
if [ -z "$loader" ] || [ ! -x "$loader" ]; then
    echo "check-libraries: no dynamic loader found for $server" >&2
    exit 1
fi

if ! listing=$("$loader" --list "$library" 2>&1) || echo "$listing" | grep -q 'not found'; then
    echo "check-libraries: $library does not load with $server's loader $loader:" >&2
    echo "$listing" | grep -i 'not found\|error\|cannot' >&2 || echo "$listing" >&2
    exit 1
fi
echo "check-libraries: $library resolves with $loader (the loader of $server):"
echo "$listing" | sed 's/^/  /'
