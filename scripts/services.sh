#!/usr/bin/env bash
# Starts, stops and reports the servers the integration tests use: PostgreSQL (127.0.0.1:5432),
# Redis (127.0.0.1:6379) and a single-node Apache Kafka 3.9 in KRaft mode (127.0.0.1:9092, controller
# 9093), fetched from Maven Central. See docs/services.md.
#
#   bash scripts/services.sh up [postgres|redis|kafka ...]     start (idempotent; all by default)
#   bash scripts/services.sh down [postgres|redis|kafka ...]   stop what this script started
#   bash scripts/services.sh status                            print each service's state
#   bash scripts/services.sh kafka-stop | kafka-start          stop / start only Kafka (same as down kafka / up kafka)
#   bash scripts/services.sh env [test]                        print the environment line (test: TEST_* names)
#
# Environment: QATOM_SERVICES_DIR (cache and state, default ~/.cache/quantatom), QATOM_KAFKA_VERSION
# (default 3.9.1), QATOM_KAFKA_HEAP (default 512m), QATOM_KAFKA_WAIT (seconds, default 60),
# QATOM_KAFKA_JAVA_OPTS (default "-XX:+UseSerialGC -XX:TieredStopAtLevel=1").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICES_DIR="${QATOM_SERVICES_DIR:-$HOME/.cache/quantatom}"
KAFKA_VERSION="${QATOM_KAFKA_VERSION:-3.9.1}"
KAFKA_HEAP="${QATOM_KAFKA_HEAP:-512m}"
KAFKA_WAIT="${QATOM_KAFKA_WAIT:-60}"
# C1-only JIT and the serial collector: the broker starts in about 1-2 s on 2 cores; fine for tests.
KAFKA_JAVA_OPTS="${QATOM_KAFKA_JAVA_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1}"
KAFKA_DIR="$SERVICES_DIR/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_DIR/libs"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_CONF="$KAFKA_DIR/server.properties"
KAFKA_LOG4J="$KAFKA_DIR/log4j.properties"
KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_LOG="$KAFKA_DIR/kafka.log"
STATE_DIR="$SERVICES_DIR/state"
PG_HOST=127.0.0.1 PG_PORT=5432 PG_DB=test
REDIS_PORT=6379
KAFKA_PORT=9092 KAFKA_CONTROLLER_PORT=9093

ENV_LINE="DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379 KAFKA_BROKERS=127.0.0.1:9092"

log() { printf '[services] %s\n' "$*"; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

# apt-get install, running apt-get update once first (fresh machines have empty package lists).
APT_UPDATED=
apt_install() {
  [ "$(id -u)" = 0 ] || die "need root to apt-get install $*"
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

# true when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------- PostgreSQL
pg_up() { pg_isready -h "$PG_HOST" -p "$PG_PORT" -q 2>/dev/null; }

pg_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -1; }

postgres_start() {
  if command -v pg_isready >/dev/null 2>&1 && pg_up; then
    log "postgres: already running on $PG_HOST:$PG_PORT"
  else
    local installed=
    if [ -z "$(pg_version)" ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
      apt_install postgresql
      installed=1
    fi
    local ver; ver="$(pg_version)"
    [ -n "$ver" ] || die "postgres: no cluster under /etc/postgresql after installing"
    if [ ! -d "/etc/postgresql/$ver/main" ]; then
      log "postgres: creating cluster $ver main"
      pg_createcluster "$ver" main --port "$PG_PORT" >/dev/null
      installed=1
    fi
    if [ -n "$installed" ]; then
      # The URL has no password: trust local TCP connections, as on the project's machines.
      log "postgres: trust auth for 127.0.0.1 in /etc/postgresql/$ver/main/pg_hba.conf"
      sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "/etc/postgresql/$ver/main/pg_hba.conf"
    fi
    log "postgres: pg_ctlcluster --skip-systemctl-redirect $ver main start"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    [ -n "$installed" ] && pg_ctlcluster --skip-systemctl-redirect "$ver" main reload || true
    local i
    for i in $(seq 1 30); do pg_up && break; sleep 1; done
    pg_up || die "postgres: not answering on $PG_HOST:$PG_PORT after 30 s"
    mkdir -p "$STATE_DIR" && echo "$ver" >"$STATE_DIR/postgres.started"
    log "postgres: started (cluster $ver main)"
  fi
  # The test database of DATABASE_URL.
  if command -v psql >/dev/null 2>&1 &&
    ! psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -tAc "select 1 from pg_database where datname = '$PG_DB'" 2>/dev/null | grep -q 1; then
    log "postgres: creating database $PG_DB"
    psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -qc "create database $PG_DB" >/dev/null
  fi
}

postgres_stop() {
  if [ -f "$STATE_DIR/postgres.started" ]; then
    local ver; ver="$(cat "$STATE_DIR/postgres.started")"
    log "postgres: pg_ctlcluster --skip-systemctl-redirect $ver main stop (started by this script)"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main stop || true
    rm -f "$STATE_DIR/postgres.started"
  else
    log "postgres: left running (not started by this script)"
  fi
}

postgres_status() {
  if command -v pg_isready >/dev/null 2>&1 && pg_up; then
    log "postgres: up on $PG_HOST:$PG_PORT$([ -f "$STATE_DIR/postgres.started" ] && echo ' (started by this script)' || true)"
  else
    log "postgres: down"
  fi
}

# ---------------------------------------------------------------- Redis
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

redis_start() {
  if command -v redis-cli >/dev/null 2>&1 && redis_up; then
    log "redis: already running on 127.0.0.1:$REDIS_PORT"
    return
  fi
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  # Debian's package may have started its own service while installing.
  if redis_up; then
    log "redis: running on 127.0.0.1:$REDIS_PORT (started by the package)"
    return
  fi
  mkdir -p "$STATE_DIR"
  log "redis: redis-server --port $REDIS_PORT --bind 127.0.0.1 --save \"\" --appendonly no --daemonize yes"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --pidfile "$STATE_DIR/redis.pid" --logfile "$STATE_DIR/redis.log" --dir "$STATE_DIR"
  local i
  for i in $(seq 1 50); do redis_up && break; sleep 0.1; done
  redis_up || die "redis: not answering on 127.0.0.1:$REDIS_PORT (see $STATE_DIR/redis.log)"
  touch "$STATE_DIR/redis.started"
  log "redis: started"
}

redis_stop() {
  if [ -f "$STATE_DIR/redis.started" ]; then
    log "redis: shutdown nosave (started by this script)"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    rm -f "$STATE_DIR/redis.started"
  else
    log "redis: left running (not started by this script)"
  fi
}

redis_status() {
  if command -v redis-cli >/dev/null 2>&1 && redis_up; then
    log "redis: up on 127.0.0.1:$REDIS_PORT$([ -f "$STATE_DIR/redis.started" ] && echo ' (started by this script)' || true)"
  else
    log "redis: down"
  fi
}

# ---------------------------------------------------------------- Kafka
kafka_pid() {
  local pid
  [ -f "$KAFKA_PID" ] || return 1
  pid="$(cat "$KAFKA_PID")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a reused pid.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

kafka_fetch() {
  if [ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ] && [ -f "$KAFKA_LIBS/.complete" ]; then
    log "kafka: using $KAFKA_LIBS"
    return
  fi
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || apt_install maven
  log "kafka: fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION and dependencies from Maven Central into $KAFKA_LIBS"
  local tmp="$KAFKA_DIR/libs.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  if ! mvn -B -q -Dstyle.color=never -f "$ROOT/scripts/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    -DoutputDirectory="$tmp" dependency:copy-dependencies >"$KAFKA_DIR/mvn.log" 2>&1; then
    tail -40 "$KAFKA_DIR/mvn.log" >&2 || true
    rm -rf "$tmp"
    die "kafka: mvn dependency:copy-dependencies failed (see $KAFKA_DIR/mvn.log)"
  fi
  [ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || { rm -rf "$tmp"; die "kafka: kafka_2.13-$KAFKA_VERSION.jar missing after fetch"; }
  touch "$tmp/.complete"
  rm -rf "$KAFKA_LIBS" && mv "$tmp" "$KAFKA_LIBS"
  log "kafka: $(ls "$KAFKA_LIBS" | wc -l) jars, $(du -sh "$KAFKA_LIBS" | cut -f1)"
}

kafka_configure() {
  mkdir -p "$KAFKA_DATA"
  # Regenerated every time (cheap) so template changes take effect; the data directory is kept.
  sed "s|@LOG_DIRS@|$KAFKA_DATA|" "$ROOT/scripts/kafka/server.properties.in" >"$KAFKA_CONF.tmp" && mv "$KAFKA_CONF.tmp" "$KAFKA_CONF"
  cp "$ROOT/scripts/kafka/log4j.properties" "$KAFKA_LOG4J"
  if [ ! -f "$KAFKA_DATA/meta.properties" ]; then
    local uuid
    uuid="$(java -Dlog4j.configuration="file:$KAFKA_LOG4J" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
    [ -n "$uuid" ] || die "kafka: StorageTool random-uuid printed nothing"
    log "kafka: formatting $KAFKA_DATA (cluster id $uuid)"
    java -Dlog4j.configuration="file:$KAFKA_LOG4J" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool \
      format --ignore-formatted -t "$uuid" -c "$KAFKA_CONF" >>"$KAFKA_LOG" 2>&1 ||
      die "kafka: storage format failed (see $KAFKA_LOG)"
  fi
}

# Ready when the broker logged its start and answers on 9092; with node_modules present, also a
# metadata request through kafkajs (the client the project uses).
kafka_ready() {
  port_open "$KAFKA_PORT" || return 1
  grep -q 'Kafka Server started' "$KAFKA_LOG" 2>/dev/null || return 1
  if command -v node >/dev/null 2>&1 && [ -d "$ROOT/node_modules/kafkajs" ]; then
    (cd "$ROOT" && timeout 15 node -e '
      const { Kafka, logLevel } = require("kafkajs");
      const admin = new Kafka({ clientId: "services-sh", brokers: ["127.0.0.1:'"$KAFKA_PORT"'"], logLevel: logLevel.NOTHING,
        retry: { retries: 0 }, connectionTimeout: 2000 }).admin();
      admin.connect().then(() => admin.listTopics()).then(() => admin.disconnect()).then(() => process.exit(0), () => process.exit(1));
    ') >/dev/null 2>&1 || return 1
  fi
}

kafka_start() {
  local pid
  if pid="$(kafka_pid)"; then
    log "kafka: already running (pid $pid)"
  elif port_open "$KAFKA_PORT"; then
    log "kafka: something else already listens on 127.0.0.1:$KAFKA_PORT; using it"
    return
  else
    kafka_fetch
    kafka_configure
    log "kafka: starting java -Xmx$KAFKA_HEAP -cp '$KAFKA_LIBS/*' kafka.Kafka $KAFKA_CONF (log $KAFKA_LOG)"
    # Keep the previous run's log (kafka.log.prev); readiness looks for the start line in a fresh log.
    [ -f "$KAFKA_LOG" ] && mv -f "$KAFKA_LOG" "$KAFKA_LOG.prev"
    : >"$KAFKA_LOG"
    # setsid + nohup: the broker outlives this shell and its job control.
    # shellcheck disable=SC2086 # KAFKA_JAVA_OPTS is a list of options
    setsid nohup java -Xms128m -Xmx"$KAFKA_HEAP" $KAFKA_JAVA_OPTS \
      -Djava.awt.headless=true -Dlog4j.configuration="file:$KAFKA_LOG4J" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_CONF" </dev/null >>"$KAFKA_LOG" 2>&1 &
    pid=$!
    echo "$pid" >"$KAFKA_PID"
    log "kafka: pid $pid"
  fi
  local start=$SECONDS
  until kafka_ready; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -30 "$KAFKA_LOG" >&2 || true
      rm -f "$KAFKA_PID"
      die "kafka: the broker exited (see $KAFKA_LOG)"
    fi
    if [ $((SECONDS - start)) -ge "$KAFKA_WAIT" ]; then
      tail -30 "$KAFKA_LOG" >&2 || true
      die "kafka: not ready on 127.0.0.1:$KAFKA_PORT after $KAFKA_WAIT s (see $KAFKA_LOG)"
    fi
    sleep 0.3
  done
  log "kafka: ready on 127.0.0.1:$KAFKA_PORT (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT)"
}

kafka_stop() {
  local pid
  if ! pid="$(kafka_pid)"; then
    rm -f "$KAFKA_PID"
    # A broker this script did not start (another QATOM_SERVICES_DIR, or foreign): say so and fail,
    # so that a test that stops Kafka on purpose does not go on with it running.
    port_open "$KAFKA_PORT" && [ -n "${KAFKA_STOP_STRICT:-}" ] &&
      die "kafka: 127.0.0.1:$KAFKA_PORT is served by a process not started with QATOM_SERVICES_DIR=$SERVICES_DIR; not stopping it"
    if port_open "$KAFKA_PORT"; then
      log "kafka: 127.0.0.1:$KAFKA_PORT is served by a process not started with QATOM_SERVICES_DIR=$SERVICES_DIR; left running"
    else
      log "kafka: not running (no live pid in $KAFKA_PID)"
    fi
    return
  fi
  log "kafka: stopping pid $pid (SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "kafka: still running after 20 s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$KAFKA_PID"
  log "kafka: stopped"
}

kafka_status() {
  local pid
  if pid="$(kafka_pid)"; then
    if kafka_ready; then log "kafka: up on 127.0.0.1:$KAFKA_PORT (pid $pid, $KAFKA_VERSION, data $KAFKA_DATA)"
    else log "kafka: starting or unhealthy (pid $pid; see $KAFKA_LOG)"; fi
  elif port_open "$KAFKA_PORT"; then
    log "kafka: something not started by this script listens on 127.0.0.1:$KAFKA_PORT"
  else
    log "kafka: down"
  fi
}

# ---------------------------------------------------------------- main
services_of() {
  if [ $# -eq 0 ]; then printf "%s\n" postgres redis kafka; return; fi
  local s
  for s in "$@"; do
    case "$s" in postgres | redis | kafka) echo "$s" ;; *) die "unknown service '$s' (postgres, redis, kafka)" ;; esac
  done
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  up)
    t0=$SECONDS
    for s in $(services_of "$@"); do "${s}_start"; done
    log "up in $((SECONDS - t0)) s; environment (tests also accept TEST_DATABASE_URL, TEST_REDIS_URL, TEST_KAFKA_BROKERS: \`export \$(bash scripts/services.sh env test)\`):"
    echo "$ENV_LINE"
    ;;
  down)
    # Named explicitly (down kafka), failing to stop Kafka is an error; plain `down` only reports it.
    [ $# -gt 0 ] && KAFKA_STOP_STRICT=1
    svcs="$(services_of "$@")"
    # Stop in reverse order: Kafka first.
    for s in $(echo "$svcs" | tac); do "${s}_stop"; done
    ;;
  status) for s in $(services_of "$@"); do "${s}_status"; done ;;
  kafka-start) kafka_start ;;
  kafka-stop) KAFKA_STOP_STRICT=1 kafka_stop ;;
  env)
    # `env test`: the TEST_* names that test/helpers/services.ts reads first; exporting those leaves the
    # backend's own configuration (DATABASE_URL, REDIS_URL, KAFKA_BROKERS) at its defaults.
    if [ "${1:-}" = test ]; then echo "$ENV_LINE" | sed -E 's/(^| )([A-Z])/\1TEST_\2/g'; else echo "$ENV_LINE"; fi
    ;;
  *)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    [ -z "$cmd" ] || [ "$cmd" = help ] || [ "$cmd" = -h ] || exit 2
    ;;
esac
