#!/usr/bin/env bash
# Rosters the sandbox's large district (20 schools, 2,500 sections, 50,000 students) into a fresh
# SQLite cache over loopback REST, then from the same district's OneRoster CSV zip, and writes
# the times and rows/second to Benchmarks/ROSTER.md with the commands that produced them.
#
#   bash Benchmarks/roster.sh            # release build (about 6 minutes the first time)
#   SIZE=5000 bash Benchmarks/roster.sh  # a smaller district
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-district}
PORT=${PORT:-18195}
SCRATCH=${SCRATCH:-.build-release}
swift build -c release --scratch-path "$SCRATCH" --product passback >/dev/null
BIN="$SCRATCH/release/passback"
WORK=$(mktemp -d)
trap 'kill $SANDBOX_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BIN" sandbox --port "$PORT" --size "$SIZE" --max-page-size 1000 >"$WORK/sandbox.out" 2>&1 &
SANDBOX_PID=$!
for _ in $(seq 1 100); do grep -q "is running" "$WORK/sandbox.out" 2>/dev/null && break; sleep 0.2; done
cat > "$WORK/passback.json" <<JSON
{ "connectionIds": ["district"],
  "connection": { "district": { "baseURL": "http://127.0.0.1:$PORT/ims/oneroster/v1p1", "clientId": "passback-sandbox", "pageSize": 1000 } } }
JSON
export CONNECTION_DISTRICT_CLIENT_SECRET=sandbox-secret

start=$(date +%s.%N)
"$BIN" roster sync --config "$WORK/passback.json" --database "$WORK/rest.sqlite" --connection district >"$WORK/rest.txt"
rest_s=$(echo "$(date +%s.%N) - $start" | bc)

start=$(date +%s.%N)
"$BIN" roster sync --config "$WORK/passback.json" --database "$WORK/rest.sqlite" --connection district >"$WORK/delta.txt"
delta_s=$(echo "$(date +%s.%N) - $start" | bc)

"$BIN" sandbox --size "$SIZE" --export-csv "$WORK/district.zip" >/dev/null
start=$(date +%s.%N)
"$BIN" roster import "$WORK/district.zip" --config "$WORK/passback.json" --database "$WORK/csv.sqlite" --connection district >"$WORK/csv.txt"
csv_s=$(echo "$(date +%s.%N) - $start" | bc)

rows=$(grep -E "^[0-9]+ rows" "$WORK/rest.txt" | cut -d' ' -f1)
csv_rows=$(grep -E "^[0-9]+ rows" "$WORK/csv.txt" | cut -d' ' -f1)
{
  echo "# Rostering benchmark"
  echo
  echo "Written by \`bash Benchmarks/roster.sh\` (SIZE=$SIZE) on $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(swift --version 2>&1 | head -1)."
  echo "Release build; sandbox SIS and \`passback\` are separate processes on loopback; page size 1,000; OAuth 2."
  echo "Wall-clock times of whole commands (process start included); a shared, noisy machine: compare the ratios within one run."
  echo
  echo "| run | rows | seconds | rows/s |"
  echo "|---|---|---|---|"
  printf "| REST full pull | %s | %.1f | %.0f |\n" "$rows" "$rest_s" "$(echo "$rows / $rest_s" | bc -l)"
  printf "| REST delta (nothing changed) | 0 | %.2f | – |\n" "$delta_s"
  printf "| CSV zip import (bulk) | %s | %.1f | %.0f |\n" "$csv_rows" "$csv_s" "$(echo "$csv_rows / $csv_s" | bc -l)"
  echo
  echo "REST full pull, as \`passback roster sync\` reported it:"
  echo
  echo '```'
  cat "$WORK/rest.txt"
  echo '```'
  echo
  echo "CSV import:"
  echo
  echo '```'
  cat "$WORK/csv.txt"
  echo '```'
} > Benchmarks/ROSTER.md
cat Benchmarks/ROSTER.md
