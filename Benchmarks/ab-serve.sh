#!/bin/bash
# Two (or more) builds of `passback` serving the same database in turn, under the same request:
# each round starts each binary on DIR's passback.json and passback.sqlite (a `passback-bench
# --work DIR` folder), warms it for a second, then runs `wrk` with the Lua script LUA (method,
# body and token) at 1 and then 4 connections for 4 s, and prints req/s, p99 and the server's
# CPU time (user + system, from /proc) per request. Compare builds within one run: the machine
# is shared and noisy.
#
# usage: Benchmarks/ab-serve.sh DIR LUA ROUNDS BINARY...
set -euo pipefail
dir=$1; lua=$2; rounds=$3; shift 3
export CONNECTION_DISTRICT_CLIENT_SECRET=${CONNECTION_DISTRICT_CLIENT_SECRET:-sandbox-secret}
cd "$dir"
for r in $(seq 1 "$rounds"); do
  for bin in "$@"; do
    "$bin" serve --config passback.json --database passback.sqlite --port 27800 > /dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:27800/healthz && break; sleep 0.1; done
    wrk -t1 -c1 -d1s -s "$lua" http://127.0.0.1:27800/graphql > /dev/null
    for c in 1 4; do
      a=$(awk '{print $14+$15}' "/proc/$pid/stat")
      out=$(wrk -t1 -c"$c" -d4s --latency -s "$lua" http://127.0.0.1:27800/graphql)
      b=$(awk '{print $14+$15}' "/proc/$pid/stat")
      rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
      p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
      n=$(echo "$out" | awk '/requests in/ {print $1}')
      tick=$(getconf CLK_TCK)
      echo "round=$r bin=$(basename "$bin") conns=$c req/s=$rps p99=$p99 cpu_ms_per_req=$(python3 -c "print(round(($b - $a) * 1000 / $tick / $n, 3))")"
    done
    kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  done
done
