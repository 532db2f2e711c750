#!/bin/bash
# Spawn to the first /readyz 200 of the server, after a SIGKILL of the previous one.
# usage: scripts/restart-time.sh pglite|postgresql [runs]   (PostgreSQL at 127.0.0.1:5432, trust auth)
cd "$(dirname "$0")/.."
node scripts/ensure-built.mjs || exit 1   # the server as npm start runs it: node dist/server.js, built when stale
engine=$1; runs=${2:-3}; port=$((40000 + RANDOM % 1000))
if [ "$engine" = postgresql ]; then
  psql -qh 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS restart_time_r" -c "CREATE DATABASE restart_time_r" >/dev/null
  export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/restart_time_r ONCEQL_ENCRYPTION_KEY=$(openssl rand -hex 32)
else
  rm -rf /tmp/restart-time-data; export ONCEQL_DATA_DIR=/tmp/restart-time-data
fi
pid=""
for i in $(seq 0 $runs); do
  [ -n "$pid" ] && kill -9 $pid && wait $pid 2>/dev/null
  s=$(date +%s%N)
  PORT=$port LOG_LEVEL=warn node dist/server.js >/dev/null 2>&1 & pid=$!
  until curl -sf -o /dev/null http://127.0.0.1:$port/readyz; do sleep 0.05; done
  e=$(date +%s%N)
  echo "$engine run $i ($([ $i = 0 ] && echo "first start, migrating" || echo "after SIGKILL")): $(( (e-s)/1000000 )) ms; load $(cut -d' ' -f1 /proc/loadavg)"
done
kill -9 $pid; wait $pid 2>/dev/null
[ "$engine" = postgresql ] && psql -qh 127.0.0.1 -U postgres -c "DROP DATABASE restart_time_r WITH (FORCE)"
