#!/usr/bin/env bash
# Real local backends for griddesk tests and local runs, on 127.0.0.1 only:
#   * Apache Kafka 4.3.1, single node, KRaft (broker+controller), jars from Maven Central
#   * FerretDB v1.24.2 (MongoDB wire protocol), built from the Go module proxy, storing its data in
#     PostgreSQL (Debian's package, a fresh cluster of our own) by default, or in SQLite files
#     with FERRETDB_BACKEND=sqlite
#
# Usage: deploy/local/backends.sh fetch|start|stop|restart|status|env|create-topics
#   fetch                  resolve Kafka jars + build FerretDB into the cache (idempotent)
#   start [--reuse]        fetch if needed, start them all with FRESH data, wait until ready;
#                          last two lines of stdout: KAFKA_BOOTSTRAP=... and MONGODB_URI=...
#                          If they are already running: restarted (fresh data), or kept
#                          as they are with --reuse / BACKENDS_REUSE=1 when all are healthy.
#   stop                   SIGTERM by PID file, wait, SIGKILL if needed
#   restart                stop + start
#   status                 exit 0 if all run and answer, 3 otherwise
#   env                    print KAFKA_BOOTSTRAP=... / MONGODB_URI=...
#   create-topics T[:N]..  create Kafka topics (existing ones are fine)
#
# See deploy/local/README.md for env vars, cache layout and timings.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

CACHE="${GRIDDESK_CACHE:-$REPO/.cache}"
VAR="${GRIDDESK_VAR:-$REPO/var/backends}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="$((KAFKA_PORT + 1))"
FERRETDB_PORT="${FERRETDB_PORT:-27018}"
FERRETDB_BACKEND="${FERRETDB_BACKEND:-postgresql}"   # FerretDB's storage: postgresql or sqlite
POSTGRES_PORT="${POSTGRES_PORT:-$((FERRETDB_PORT + 1))}"
# Test data, wiped at every start: nothing is worth an fsync (see deploy/local/README.md).
POSTGRES_FSYNC="${POSTGRES_FSYNC:-off}"
POSTGRES_OS_USER="${POSTGRES_OS_USER:-postgres}"     # who runs the server when we are root
# Extra server settings, "name=value" words, e.g. to see what FerretDB sends:
# POSTGRES_SETTINGS="shared_preload_libraries=pg_stat_statements log_min_duration_statement=50"
POSTGRES_SETTINGS="${POSTGRES_SETTINGS:-}"
# GIN indexes for the filters FerretDB pushes down (postgresql/ferretdb_lookup_indexes.sql); off = FerretDB's own only
POSTGRES_LOOKUP_INDEXES="${POSTGRES_LOOKUP_INDEXES:-on}"
FERRETDB_PPROF="${FERRETDB_PPROF:-}"   # host:port for ferretdb-local's Go /debug/pprof; none if empty
START_TIMEOUT="${BACKENDS_START_TIMEOUT:-90}"   # seconds, for both backends together
STOP_TIMEOUT="${BACKENDS_STOP_TIMEOUT:-20}"     # seconds of SIGTERM grace per process
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
KAFKA_LOG_LEVEL="${KAFKA_LOG_LEVEL:-info}"
JAVA="${JAVA:-java}"
JAVAC="${JAVAC:-javac}"
MVN="${MVN:-mvn}"
GO="${GO:-go}"

HOST=127.0.0.1
KAFKA_BOOTSTRAP="$HOST:$KAFKA_PORT"
MONGODB_URI="mongodb://$HOST:$FERRETDB_PORT/"

KAFKA_LIB="$CACHE/kafka/lib"
KAFKA_CLASSES="$CACHE/kafka/classes"
FERRETDB_BIN="$CACHE/bin/ferretdb-local"
FERRETDB_TAGS=""   # both storage handlers: PostgreSQL (default) and SQLite

KAFKA_VAR="$VAR/kafka"
KAFKA_PID="$KAFKA_VAR/kafka.pid"
KAFKA_LOG="$KAFKA_VAR/kafka.log"
KAFKA_PROPS="$KAFKA_VAR/server.properties"
FERRETDB_VAR="$VAR/ferretdb"
FERRETDB_PID="$FERRETDB_VAR/ferretdb.pid"
FERRETDB_LOG="$FERRETDB_VAR/ferretdb.log"
POSTGRES_VAR="$VAR/postgresql"
POSTGRES_PID="$POSTGRES_VAR/postgres.pid"
POSTGRES_LOG="$POSTGRES_VAR/postgres.log"
POSTGRES_DATA_LINK="$POSTGRES_VAR/data-dir"   # holds the data directory's path (see postgres_data_dir)
POSTGRES_USER=ferretdb                        # the cluster's superuser, trust auth on 127.0.0.1 only
POSTGRES_URL="postgres://$POSTGRES_USER@$HOST:$POSTGRES_PORT/ferretdb"

case "$FERRETDB_BACKEND" in
    postgresql | sqlite) ;;
    *) printf 'FERRETDB_BACKEND must be postgresql or sqlite, not %q\n' "$FERRETDB_BACKEND" >&2; exit 2 ;;
esac

log() { printf '[backends %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH (needed: Java 17+ with javac, Maven, Go 1.24+)"
}

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# ---------------------------------------------------------------- fetch / build

fetch_kafka() {
    local want stamp="$CACHE/kafka/lib.sha256"
    want="$(hash_of "$HERE/kafka/pom.xml")"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && compgen -G "$KAFKA_LIB/kafka_2.13-*.jar" >/dev/null; then
        :
    else
        need "$MVN"
        log "resolving Kafka jars with Maven into $KAFKA_LIB"
        local tmp="$CACHE/kafka/lib.tmp.$$"
        rm -rf "$tmp"
        mkdir -p "$tmp"
        # -f points at the repo's pom; packaging=pom, so no target/ is written next to it.
        "$MVN" -q -B -Dstyle.color=never -f "$HERE/kafka/pom.xml" dependency:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory="$tmp" >&2 \
            || { rm -rf "$tmp"; die "Maven could not resolve Kafka (see output above)"; }
        rm -rf "$KAFKA_LIB"
        mv "$tmp" "$KAFKA_LIB"
        echo "$want" >"$stamp"
        rm -f "$CACHE/kafka/classes.sha256"   # recompile the probe against the new jars
    fi

    stamp="$CACHE/kafka/classes.sha256"
    want="$(hash_of "$HERE/kafka/KafkaReady.java" "$HERE/kafka/pom.xml")"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$KAFKA_CLASSES/KafkaReady.class" ]]; then
        return 0
    fi
    need "$JAVAC"
    log "compiling KafkaReady probe into $KAFKA_CLASSES"
    rm -rf "$KAFKA_CLASSES"
    mkdir -p "$KAFKA_CLASSES"
    "$JAVAC" -nowarn -d "$KAFKA_CLASSES" -cp "$KAFKA_LIB/*" "$HERE/kafka/KafkaReady.java" >&2
    echo "$want" >"$stamp"
}

fetch_ferretdb() {
    local want stamp="$FERRETDB_BIN.sha256"
    need "$GO"
    # Rebuild when the sources, the build tags or the Go toolchain change.
    want="$( { cat "$HERE"/ferretdb/*.go "$HERE/ferretdb/go.mod" "$HERE/ferretdb/go.sum";
               echo "handlers postgresql+sqlite, tags: $FERRETDB_TAGS"; "$GO" env GOVERSION GOOS GOARCH; } \
             | sha256sum | cut -d' ' -f1)"
    if [[ -x "$FERRETDB_BIN" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    log "building FerretDB (ferretdb-local) into $FERRETDB_BIN (cold build: about a minute on 2 cores)"
    mkdir -p "$CACHE/bin"
    local tmp="$FERRETDB_BIN.tmp.$$"
    (
        cd "$HERE/ferretdb"
        CGO_ENABLED=0 "$GO" build -trimpath -buildvcs=false -mod=readonly \
            -tags "$FERRETDB_TAGS" -o "$tmp" .
    ) >&2 || { rm -f "$tmp"; die "go build of deploy/local/ferretdb failed (see output above)"; }
    mv -f "$tmp" "$FERRETDB_BIN"
    echo "$want" >"$stamp"
}

cmd_fetch() {
    mkdir -p "$CACHE"
    # Serialise concurrent fetches (e.g. two test runs) on the same cache.
    exec 8>"$CACHE/.backends-fetch.lock"
    if command -v flock >/dev/null 2>&1; then flock 8; fi
    local t0=$SECONDS
    fetch_kafka
    fetch_ferretdb
    exec 8>&-
    log "fetch ok (${KAFKA_LIB}, ${FERRETDB_BIN}) in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------- process helpers

# pid_of FILE PATTERN: print the PID recorded in FILE if that process is alive and its
# command line contains PATTERN (guards against PID reuse); else print nothing.
pid_of() {
    local file="$1" pattern="$2" pid
    [[ -f "$file" ]] || return 0
    pid="$(cat "$file" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    if [[ -r "/proc/$pid/cmdline" ]] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pattern"; then
        return 0
    fi
    echo "$pid"
}
kafka_pid() { pid_of "$KAFKA_PID" "kafka.Kafka"; }
ferretdb_pid() { pid_of "$FERRETDB_PID" "ferretdb-local"; }
postgres_pid() { pid_of "$POSTGRES_PID" "postgres"; }

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# stop_pids NAME:SIGNAL:PIDFILE:PID ... (PID may be empty): signal all at once (TERM, or INT for
# PostgreSQL's "fast" shutdown: TERM would wait for every client to leave), wait up to STOP_TIMEOUT,
# then SIGKILL.
stop_pids() {
    local spec name signal pidfile pid i alive
    local -a pids=()
    for spec in "$@"; do
        IFS=: read -r name signal pidfile pid <<<"$spec"
        if [[ -n "$pid" ]]; then
            log "stopping $name (pid $pid, SIG$signal)"
            kill -"$signal" "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
    done
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            log "pid $pid did not exit after ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    for ((i = 0; i < 50; i++)); do
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for spec in "$@"; do
        IFS=: read -r name signal pidfile pid <<<"$spec"
        rm -f "$pidfile"
    done
}

# PostgreSQL is stopped whatever FERRETDB_BACKEND says now: it may have been started with the other.
cmd_stop() {
    stop_pids "ferretdb:TERM:$FERRETDB_PID:$(ferretdb_pid)" "kafka:TERM:$KAFKA_PID:$(kafka_pid)" \
        "postgresql:INT:$POSTGRES_PID:$(postgres_pid)"
    local data
    data="$(postgres_data_dir)"
    if [[ -n "$data" && "$data" != "$POSTGRES_VAR"/* ]]; then
        rm -rf "$data" "$POSTGRES_DATA_LINK"   # a data dir outside GRIDDESK_VAR is not left behind
    fi
    log "stopped"
}

tail_log() {
    local file="$1"
    if [[ -f "$file" ]]; then
        echo "----- last 40 lines of $file -----" >&2
        tail -n 40 "$file" >&2
        echo "-----" >&2
    fi
}

# ---------------------------------------------------------------- readiness probes

kafka_probe() { # kafka_probe TIMEOUT_SECONDS [topics...]
    local timeout="$1"
    shift
    "$JAVA" -Xms32m -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto \
        -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        -cp "$KAFKA_CLASSES:$KAFKA_LIB/*" KafkaReady "$KAFKA_BOOTSTRAP" "$timeout" "$@"
}

# A real MongoDB round trip without any client library: OP_MSG {ping: 1, $db: "admin"},
# then check the reply holds ok: 1.0 (BSON double). Pure bash + od.
ferretdb_ping() {
    # shellcheck disable=SC2016  # the script is expanded by the inner bash
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        # header: len=51 reqId=1 respTo=0 opCode=2013 | flags=0 | kind 0 | BSON (30 bytes)
        printf "\x33\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00\x1e\x00\x00\x00\x10ping\x00\x01\x00\x00\x00\x02\$db\x00\x06\x00\x00\x00admin\x00\x00" >&3
        len=$(head -c 4 <&3 | od -An -tu4 | tr -d " ")
        [[ "$len" =~ ^[0-9]+$ ]] && (( len > 4 && len < 1048576 )) || exit 1
        body=$(head -c $((len - 4)) <&3 | od -An -v -tx1 | tr -d " \n")
        # 01 "ok" 00 then little-endian double 1.0
        [[ "$body" == *016f6b00000000000000f03f* ]]
    ' _ "$HOST" "$FERRETDB_PORT"
}

# ---------------------------------------------------------------- start

write_kafka_props() {
    cat >"$KAFKA_PROPS" <<EOF
# Generated by deploy/local/backends.sh on $(date -u +%FT%TZ); rewritten at every start.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$KAFKA_VAR/data
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
EOF
}

# Kafka cluster ids are 16 random bytes, base64url without padding (what
# "kafka.tools.StorageTool random-uuid" prints); generated here to save a JVM start.
new_cluster_id() {
    local id
    while :; do
        id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
        [[ "$id" != -* && ${#id} -eq 22 ]] && break
    done
    echo "$id"
}

launch_kafka() {
    rm -rf "$KAFKA_VAR"
    mkdir -p "$KAFKA_VAR/data"
    write_kafka_props
    local cluster_id
    cluster_id="$(new_cluster_id)"
    # shellcheck disable=SC2206  # KAFKA_HEAP_OPTS is a word list on purpose
    local -a jvm=($KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
        -Djava.awt.headless=true
        -Dorg.slf4j.simpleLogger.defaultLogLevel="$KAFKA_LOG_LEVEL"
        -Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info # "Kafka Server started"
        -Dorg.slf4j.simpleLogger.showDateTime=true
        -Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd\'T\'HH:mm:ss.SSS
        -Dorg.slf4j.simpleLogger.showThreadName=false
        -Dorg.slf4j.simpleLogger.showShortLogName=true)
    log "formatting fresh KRaft storage in $KAFKA_VAR/data (cluster id $cluster_id)"
    if ! "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
        -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$KAFKA_LIB/*" \
        kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_PROPS" --standalone \
        >"$KAFKA_VAR/format.log" 2>&1; then
        tail_log "$KAFKA_VAR/format.log"
        die "kafka storage format failed"
    fi
    log "starting kafka on $KAFKA_BOOTSTRAP (controller $HOST:$KAFKA_CONTROLLER_PORT)"
    # stdin/stdout/stderr detached so callers using $(...) or pipes never hang on us;
    # lock fds 8/9 closed so a running broker never holds the script's locks.
    nohup "$JAVA" "${jvm[@]}" -cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_PROPS" \
        </dev/null >"$KAFKA_LOG" 2>&1 8>&- 9>&- &
    echo $! >"$KAFKA_PID"
}

# ---------------------------------------------------------------- postgresql (FerretDB's storage)

# The directory of Debian's server binaries (initdb, postgres, pg_isready, createdb): PG_BIN, else
# pg_config's, else the newest /usr/lib/postgresql/<major>/bin. Debian puts none of them on PATH.
postgres_bin() {
    local dir
    if [[ -n "${PG_BIN:-}" ]]; then
        echo "$PG_BIN"
        return
    fi
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        [[ -x "$dir/initdb" ]] && { echo "$dir"; return; }
    fi
    dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)"
    [[ -n "$dir" && -x "$dir/initdb" ]] && echo "$dir"
}

# PostgreSQL refuses to run as root: as root, its programs run as POSTGRES_OS_USER (Debian's package
# creates "postgres"). setpriv execs, so a server started through it keeps the PID we record.
DB_OWNER=()
if ((EUID == 0)); then
    DB_OWNER=(setpriv --reuid="$POSTGRES_OS_USER" --regid="$POSTGRES_OS_USER" --init-groups --)
fi
as_db_owner() { "${DB_OWNER[@]}" "$@"; }

# The data directory: $POSTGRES_VAR/data when the server's user can write there, else (root, with a
# GRIDDESK_VAR the postgres user cannot reach, e.g. pytest's 0700 tmp_path) a directory of its own
# under /tmp. Its path is kept in $POSTGRES_DATA_LINK so that stop and the next start find it.
postgres_data_dir() {
    cat "$POSTGRES_DATA_LINK" 2>/dev/null || true
}

make_postgres_data_dir() {
    local data="$POSTGRES_VAR/data"
    mkdir -p "$data"
    ((EUID == 0)) && chown "$POSTGRES_OS_USER:" "$data"
    if ! as_db_owner test -w "$data" 2>/dev/null; then
        data="$(mktemp -d "${TMPDIR:-/tmp}/griddesk-postgresql.XXXXXX")"
        chown "$POSTGRES_OS_USER:" "$data"
        log "$POSTGRES_OS_USER cannot write under $POSTGRES_VAR; PostgreSQL data in $data"
    fi
    echo "$data" >"$POSTGRES_DATA_LINK"
    echo "$data"
}

remove_postgres_data() {
    local data
    data="$(postgres_data_dir)"
    [[ -n "$data" && "$data" != "$POSTGRES_VAR"/* && -d "$data" ]] && rm -rf "$data"
    rm -rf "$POSTGRES_VAR"
}

postgres_ready() {
    timeout 5 "$PG_DIR/pg_isready" -q -h "$HOST" -p "$POSTGRES_PORT" -U "$POSTGRES_USER" -d postgres 2>/dev/null
}

launch_postgres() {
    PG_DIR="$(postgres_bin)"
    [[ -n "$PG_DIR" ]] || die "PostgreSQL's server programs (initdb, postgres) not found: run deploy/local/ensure-tools.sh \
(apt-get install postgresql), set PG_BIN, or use FERRETDB_BACKEND=sqlite"
    remove_postgres_data
    mkdir -p "$POSTGRES_VAR"
    local data
    data="$(make_postgres_data_dir)"
    log "initdb: fresh PostgreSQL cluster in $data ($("$PG_DIR/postgres" --version))"
    # --no-sync: the cluster is thrown away at the next start anyway.
    if ! (cd / && timeout 120 "${DB_OWNER[@]}" "$PG_DIR/initdb" -D "$data" -U "$POSTGRES_USER" --auth=trust \
        -E UTF8 --locale=C.UTF-8 --no-sync >"$POSTGRES_VAR/initdb.log" 2>&1); then
        tail_log "$POSTGRES_VAR/initdb.log"
        die "initdb failed"
    fi
    log "starting postgresql on $HOST:$POSTGRES_PORT (fsync=$POSTGRES_FSYNC${POSTGRES_SETTINGS:+ $POSTGRES_SETTINGS})"
    local setting
    local -a extra=()
    # FerretDB binds the field name of `_jsonb -> $1 @> $2` as a parameter: only a custom plan, made with the
    # value known, can match it to an index expression (see postgresql/ferretdb_lookup_indexes.sql)
    [[ "$POSTGRES_LOOKUP_INDEXES" == on ]] && extra+=(-c plan_cache_mode=force_custom_plan)
    for setting in $POSTGRES_SETTINGS; do extra+=(-c "$setting"); done
    # TCP on 127.0.0.1 only, no Unix socket (a long GRIDDESK_VAR would overflow its path limit).
    # max_connections: ferretdb-local's pool (-pool-size 120) and a few for probes.
    # fsync, synchronous_commit and full_page_writes follow POSTGRES_FSYNC: this is a test database.
    (
        cd /
        exec nohup "${DB_OWNER[@]}" "$PG_DIR/postgres" -D "$data" -p "$POSTGRES_PORT" \
            -c listen_addresses="$HOST" -c unix_socket_directories= -c max_connections=140 \
            -c fsync="$POSTGRES_FSYNC" \
            -c synchronous_commit="$POSTGRES_FSYNC" -c full_page_writes="$POSTGRES_FSYNC" "${extra[@]}" \
            </dev/null >"$POSTGRES_LOG" 2>&1 8>&- 9>&-
    ) &
    echo $! >"$POSTGRES_PID"
}

# FerretDB keeps its collections in the database "ferretdb" (one schema per MongoDB database).
# The event trigger that gives its tables usable lookup indexes goes in before FerretDB creates any.
create_ferretdb_database() {
    if ! timeout 30 "$PG_DIR/createdb" -h "$HOST" -p "$POSTGRES_PORT" -U "$POSTGRES_USER" ferretdb \
        >>"$POSTGRES_LOG" 2>&1; then
        fail_start "createdb ferretdb failed"
    fi
    [[ "$POSTGRES_LOOKUP_INDEXES" == on ]] || return 0
    if ! timeout 30 "$PG_DIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$POSTGRES_PORT" -U "$POSTGRES_USER" \
        -d ferretdb -f "$HERE/postgresql/ferretdb_lookup_indexes.sql" >>"$POSTGRES_LOG" 2>&1; then
        fail_start "installing the lookup-index trigger (postgresql/ferretdb_lookup_indexes.sql) failed"
    fi
}

launch_ferretdb() {
    rm -rf "$FERRETDB_VAR"
    mkdir -p "$FERRETDB_VAR/data"
    local -a storage
    if [[ "$FERRETDB_BACKEND" == postgresql ]]; then
        storage=(-handler postgresql -postgresql-url "$POSTGRES_URL")
        log "starting ferretdb on $HOST:$FERRETDB_PORT (postgresql at $POSTGRES_URL)"
    else
        storage=(-handler sqlite -dir "$FERRETDB_VAR/data")
        log "starting ferretdb on $HOST:$FERRETDB_PORT (sqlite in $FERRETDB_VAR/data/)"
    fi
    echo "$FERRETDB_BACKEND" >"$FERRETDB_VAR/handler"
    [[ -n "$FERRETDB_PPROF" ]] && storage+=(-pprof "$FERRETDB_PPROF")
    nohup "$FERRETDB_BIN" -listen "$HOST:$FERRETDB_PORT" "${storage[@]}" \
        </dev/null >"$FERRETDB_LOG" 2>&1 8>&- 9>&- &
    echo $! >"$FERRETDB_PID"
}

fail_start() {
    log "ERROR: $*"
    tail_log "$KAFKA_LOG"
    tail_log "$POSTGRES_LOG"
    tail_log "$FERRETDB_LOG"
    cmd_stop || true
    exit 1
}

# Kafka and PostgreSQL come up side by side; FerretDB is launched once its storage answers (at once
# for SQLite). One deadline for everything.
wait_ready() {
    local t0=$SECONDS deadline=$((SECONDS + START_TIMEOUT))
    local kafka_up=0 kafka_ok=0 fdb_ok=0 pg_ok=0 pid
    [[ "$FERRETDB_BACKEND" == postgresql ]] || pg_ok=1
    while ((kafka_ok == 0 || fdb_ok == 0)); do
        ((SECONDS < deadline)) || fail_start "backends not ready within ${START_TIMEOUT}s (kafka=$kafka_ok postgresql=$pg_ok ferretdb=$fdb_ok)"
        if ((pg_ok == 0)); then
            [[ -n "$(postgres_pid)" ]] || fail_start "postgresql exited during start-up (log: $POSTGRES_LOG)"
            if postgres_ready; then
                create_ferretdb_database
                pg_ok=1
                log "postgresql ready after $((SECONDS - t0))s"
                launch_ferretdb
            fi
        elif ((fdb_ok == 0)); then
            pid="$(ferretdb_pid)"
            [[ -n "$pid" ]] || fail_start "ferretdb exited during start-up (log: $FERRETDB_LOG)"
            if port_open "$FERRETDB_PORT" && ferretdb_ping; then
                fdb_ok=1
                log "ferretdb ready after $((SECONDS - t0))s (ping ok)"
            fi
        fi
        if ((kafka_ok == 0)); then
            pid="$(kafka_pid)"
            [[ -n "$pid" ]] || fail_start "kafka exited during start-up (log: $KAFKA_LOG)"
            if ((kafka_up == 0)) && grep -q "Kafka Server started" "$KAFKA_LOG" 2>/dev/null; then
                kafka_up=1
                log "kafka logged 'Kafka Server started' after $((SECONDS - t0))s; probing with an admin client"
            fi
            if ((kafka_up == 1)); then
                local left=$((deadline - SECONDS))
                ((left > 0)) || left=1
                if kafka_probe "$left" >&2; then
                    kafka_ok=1
                    log "kafka ready after $((SECONDS - t0))s"
                else
                    fail_start "kafka admin probe failed"
                fi
                continue
            fi
        fi
        sleep 0.2
    done
}

print_env() {
    echo "KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP"
    echo "MONGODB_URI=$MONGODB_URI"
}

# Healthy and on the storage asked for now.
all_healthy() {
    [[ -n "$(kafka_pid)" && -n "$(ferretdb_pid)" ]] || return 1
    [[ "$(cat "$FERRETDB_VAR/handler" 2>/dev/null)" == "$FERRETDB_BACKEND" ]] || return 1
    if [[ "$FERRETDB_BACKEND" == postgresql ]]; then
        [[ -n "$(postgres_pid)" ]] && postgres_ready || return 1
    fi
    ferretdb_ping || return 1
    kafka_probe 5 >/dev/null 2>&1
}

cmd_start() {
    local reuse="${BACKENDS_REUSE:-0}"
    if [[ "${1:-}" == "--reuse" ]]; then reuse=1; fi
    local t0=$SECONDS

    if [[ -n "$(kafka_pid)" || -n "$(ferretdb_pid)" || -n "$(postgres_pid)" ]]; then
        if [[ "$reuse" == 1 ]] && all_healthy; then
            log "already running and healthy; reusing (data NOT reset)"
            print_env
            return 0
        fi
        log "already running; restarting with fresh data"
        cmd_stop
    fi

    need "$JAVA"
    cmd_fetch
    mkdir -p "$VAR"

    local p
    local -a ports=("$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$FERRETDB_PORT")
    [[ "$FERRETDB_BACKEND" == postgresql ]] && ports+=("$POSTGRES_PORT")
    for p in "${ports[@]}"; do
        if port_open "$p"; then
            die "port $HOST:$p is already in use by another process (set KAFKA_PORT / FERRETDB_PORT / POSTGRES_PORT)"
        fi
    done

    if [[ "$FERRETDB_BACKEND" == postgresql ]]; then
        launch_postgres   # FerretDB follows in wait_ready, once PostgreSQL answers
    else
        remove_postgres_data
        launch_ferretdb
    fi
    launch_kafka
    wait_ready
    local pg=""
    [[ "$FERRETDB_BACKEND" == postgresql ]] && pg=", postgresql pid $(postgres_pid)"
    log "backends ready in $((SECONDS - t0))s (kafka pid $(kafka_pid), ferretdb pid $(ferretdb_pid) on $FERRETDB_BACKEND$pg; logs in $VAR)"
    print_env
}

cmd_status() {
    local rc=0 pid
    pid="$(kafka_pid)"
    if [[ -n "$pid" ]] && kafka_probe 5 >/dev/null 2>&1; then
        echo "kafka: running pid=$pid bootstrap=$KAFKA_BOOTSTRAP rss_kb=$(ps -o rss= -p "$pid" | tr -d ' ')"
    elif [[ -n "$pid" ]]; then
        echo "kafka: process $pid alive but not answering on $KAFKA_BOOTSTRAP"; rc=3
    else
        echo "kafka: stopped"; rc=3
    fi
    pid="$(postgres_pid)"
    if [[ -n "$pid" ]] && postgres_ready; then
        echo "postgresql: running pid=$pid url=$POSTGRES_URL data=$(postgres_data_dir) rss_kb=$(ps -o rss= -p "$pid" | tr -d ' ')"
    elif [[ -n "$pid" ]]; then
        echo "postgresql: process $pid alive but not answering on $HOST:$POSTGRES_PORT"; rc=3
    elif [[ "$FERRETDB_BACKEND" == postgresql ]]; then
        echo "postgresql: stopped"; rc=3
    fi
    pid="$(ferretdb_pid)"
    if [[ -n "$pid" ]] && ferretdb_ping; then
        echo "ferretdb: running pid=$pid uri=$MONGODB_URI storage=$(cat "$FERRETDB_VAR/handler" 2>/dev/null) rss_kb=$(ps -o rss= -p "$pid" | tr -d ' ')"
    elif [[ -n "$pid" ]]; then
        echo "ferretdb: process $pid alive but not answering on $HOST:$FERRETDB_PORT"; rc=3
    else
        echo "ferretdb: stopped"; rc=3
    fi
    return "$rc"
}

cmd_create_topics() {
    (($# > 0)) || die "usage: $0 create-topics TOPIC[:PARTITIONS] ..."
    [[ -n "$(kafka_pid)" ]] || die "kafka is not running (run: $0 start)"
    kafka_probe 30 "$@"
}

usage() {
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# Serialise start/stop/restart on one GRIDDESK_VAR (fd 9; fetch uses fd 8).
lock_var() {
    mkdir -p "$VAR"
    exec 9>"$VAR/.backends.lock"
    if command -v flock >/dev/null 2>&1; then flock 9; fi
}

main() {
    PG_DIR="$(postgres_bin)"
    local cmd="${1:-}"
    shift || true
    case "$cmd" in
        start | stop | restart) lock_var ;;
    esac
    case "$cmd" in
        fetch) cmd_fetch ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop ;;
        restart) cmd_stop; cmd_start ;;
        status) cmd_status ;;
        env) print_env ;;
        create-topics) cmd_create_topics "$@" ;;
        -h | --help | help) usage ;;
        *) usage >&2; exit 2 ;;
    esac
}

main "$@"
