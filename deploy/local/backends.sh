#!/usr/bin/env bash
# Real local backends for griddesk tests and local runs, on 127.0.0.1 only:
#   * Apache Kafka 4.3.1, single node, KRaft (broker+controller), jars from Maven Central
#   * FerretDB v1.24.2 (MongoDB wire protocol, SQLite storage), built from the Go module proxy
#
# Usage: deploy/local/backends.sh fetch|start|stop|restart|status|env|create-topics
#   fetch                  resolve Kafka jars + build FerretDB into the cache (idempotent)
#   start [--reuse]        fetch if needed, start both with FRESH data, wait until ready;
#                          last two lines of stdout: KAFKA_BOOTSTRAP=... and MONGODB_URI=...
#                          If they are already running: restarted (fresh data), or kept
#                          as they are with --reuse / BACKENDS_REUSE=1 when both are healthy.
#   stop                   SIGTERM by PID file, wait, SIGKILL if needed
#   restart                stop + start
#   status                 exit 0 if both run and answer, 3 otherwise
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
FERRETDB_TAGS="ferretdb_no_postgresql"

KAFKA_VAR="$VAR/kafka"
KAFKA_PID="$KAFKA_VAR/kafka.pid"
KAFKA_LOG="$KAFKA_VAR/kafka.log"
KAFKA_PROPS="$KAFKA_VAR/server.properties"
FERRETDB_VAR="$VAR/ferretdb"
FERRETDB_PID="$FERRETDB_VAR/ferretdb.pid"
FERRETDB_LOG="$FERRETDB_VAR/ferretdb.log"

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
               echo "$FERRETDB_TAGS"; "$GO" env GOVERSION GOOS GOARCH; } | sha256sum | cut -d' ' -f1)"
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

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# stop_pids NAME:PIDFILE:PID ... (PID may be empty): SIGTERM all at once, wait up to STOP_TIMEOUT, then SIGKILL.
stop_pids() {
    local spec name pidfile pid i alive
    local -a pids=()
    for spec in "$@"; do
        name="${spec%%:*}" pid="${spec##*:}"
        if [[ -n "$pid" ]]; then
            log "stopping $name (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
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
        pidfile="${spec#*:}" pidfile="${pidfile%:*}"
        rm -f "$pidfile"
    done
}

cmd_stop() {
    stop_pids "ferretdb:$FERRETDB_PID:$(ferretdb_pid)" "kafka:$KAFKA_PID:$(kafka_pid)"
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

launch_ferretdb() {
    rm -rf "$FERRETDB_VAR"
    mkdir -p "$FERRETDB_VAR/data"
    log "starting ferretdb on $HOST:$FERRETDB_PORT (sqlite in $FERRETDB_VAR/data/)"
    nohup "$FERRETDB_BIN" -listen "$HOST:$FERRETDB_PORT" -dir "$FERRETDB_VAR/data" \
        </dev/null >"$FERRETDB_LOG" 2>&1 8>&- 9>&- &
    echo $! >"$FERRETDB_PID"
}

fail_start() {
    log "ERROR: $*"
    tail_log "$KAFKA_LOG"
    tail_log "$FERRETDB_LOG"
    cmd_stop || true
    exit 1
}

wait_ready() {
    local t0=$SECONDS deadline=$((SECONDS + START_TIMEOUT))
    local kafka_up=0 kafka_ok=0 fdb_ok=0 pid
    while ((kafka_ok == 0 || fdb_ok == 0)); do
        ((SECONDS < deadline)) || fail_start "backends not ready within ${START_TIMEOUT}s (kafka=$kafka_ok ferretdb=$fdb_ok)"
        if ((fdb_ok == 0)); then
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

both_healthy() {
    [[ -n "$(kafka_pid)" && -n "$(ferretdb_pid)" ]] || return 1
    ferretdb_ping || return 1
    kafka_probe 5 >/dev/null 2>&1
}

cmd_start() {
    local reuse="${BACKENDS_REUSE:-0}"
    if [[ "${1:-}" == "--reuse" ]]; then reuse=1; fi
    local t0=$SECONDS

    if [[ -n "$(kafka_pid)" || -n "$(ferretdb_pid)" ]]; then
        if [[ "$reuse" == 1 ]] && both_healthy; then
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
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$FERRETDB_PORT"; do
        if port_open "$p"; then
            die "port $HOST:$p is already in use by another process (set KAFKA_PORT / FERRETDB_PORT)"
        fi
    done

    launch_ferretdb
    launch_kafka
    wait_ready
    log "backends ready in $((SECONDS - t0))s (kafka pid $(kafka_pid), ferretdb pid $(ferretdb_pid); logs in $VAR)"
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
    pid="$(ferretdb_pid)"
    if [[ -n "$pid" ]] && ferretdb_ping; then
        echo "ferretdb: running pid=$pid uri=$MONGODB_URI rss_kb=$(ps -o rss= -p "$pid" | tr -d ' ')"
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
    sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# Serialise start/stop/restart on one GRIDDESK_VAR (fd 9; fetch uses fd 8).
lock_var() {
    mkdir -p "$VAR"
    exec 9>"$VAR/.backends.lock"
    if command -v flock >/dev/null 2>&1; then flock 9; fi
}

main() {
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
