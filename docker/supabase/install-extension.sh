#!/bin/sh
# install-extension.sh STAGE PG_MAJOR: run by docker/supabase/Dockerfile, as root, inside a
# supabase/postgres image. STAGE holds the unpacked postgresql-<PG_MAJOR>-liveupdate package and
# the repository's migrations/ (STAGE/migrations). Fails the build, saying why, unless:
#   - the image's server is PostgreSQL PG_MAJOR;
#   - the library goes where the server loads libraries from: the directory the image's `postgres`
#     wrapper names in NIX_PGLIBDIR (Supabase's Nix build; `pg_config --pkglibdir` names another,
#     the bare server's), else pg_config's; the control and SQL files beside the image's other
#     extensions (<that directory>/../share/postgresql/extension, else pg_config's sharedir);
#   - the library's shared libraries resolve with the server's own loader (check-libraries.sh);
#   - supautils lets the `postgres` role create the extension: pg_liveupdate is added to the
#     image's supautils.privileged_extensions, in /etc/postgresql/postgresql.conf after its include
#     of /etc/postgresql-custom/supautils.conf (that directory is a volume in Supabase's compose
#     file, so an existing installation keeps its old copy there; postgresql.conf is the image's).
# It also writes the init migration Supabase's entrypoint runs once on an empty data directory.
set -eu
stage=${1:?usage: install-extension.sh STAGE PG_MAJOR}
major=${2:?usage: install-extension.sh STAGE PG_MAJOR}
here=$(dirname "$0")
fail() { echo "install-extension: $*" >&2; exit 1; }

server=$(command -v postgres) || fail "no postgres on PATH"
running=$(postgres --version | sed -n 's/.*(PostgreSQL) \([0-9]*\).*/\1/p')
[ "$running" = "$major" ] || fail "the image runs PostgreSQL $running; this package is for $major (set PG_MAJOR to match the image tag)"

libdir=$(sed -n "s/^export NIX_PGLIBDIR=['\"]\{0,1\}\([^'\"]*\)['\"]\{0,1\}$/\1/p" "$(readlink -f "$server")" 2>/dev/null | head -n 1)
[ -n "$libdir" ] || libdir=$(pg_config --pkglibdir)
extdir=$(dirname "$libdir")/share/postgresql/extension
[ -f "$extdir/plpgsql.control" ] || extdir=$(pg_config --sharedir)/extension
if [ ! -d "$libdir" ] || [ ! -f "$extdir/plpgsql.control" ]; then
    fail "no library directory ($libdir) or no extension directory with plpgsql in it ($extdir)"
fi

install -m 0755 "$stage/usr/lib/postgresql/$major/lib/pg_liveupdate.so" "$libdir/pg_liveupdate.so"
install -m 0644 "$stage/usr/share/postgresql/$major/extension/"pg_liveupdate* "$extdir/"
echo "install-extension: library in $libdir, control and scripts in $extdir"
"$here/check-libraries.sh" "$libdir/pg_liveupdate.so" "$server"

# supautils: the image's list, plus pg_liveupdate, set after the include that sets it.
supautils=/etc/postgresql-custom/supautils.conf conf=/etc/postgresql/postgresql.conf
grep -q "^include = '$supautils'" "$conf" || fail "$conf does not include $supautils: where does this image configure supautils?"
allowed=$(sed -n "s/^supautils.privileged_extensions = '\(.*\)'$/\1/p" "$supautils")
[ -n "$allowed" ] || fail "no supautils.privileged_extensions in $supautils"
printf "\n# liveupdate (docker/supabase): the postgres role may create pg_liveupdate.\nsupautils.privileged_extensions = '%s, pg_liveupdate'\n" "$allowed" >>"$conf"

# The init migration, and the repository's migrations it applies.
install -d /usr/share/liveupdate/migrations
install -m 0644 "$stage"/migrations/*.sql /usr/share/liveupdate/migrations/
for migration in /usr/share/liveupdate/migrations/*.sql; do
    echo "\\i $migration"
done >/usr/share/liveupdate/migrations.sql
install -d /docker-entrypoint-initdb.d/migrations
install -m 0644 "$here/liveupdate-init.sql" /docker-entrypoint-initdb.d/migrations/99-liveupdate.sql
