#!/usr/bin/env bash
# Sync a section's changes, then poll the run until it finishes.
source "$(dirname "$0")/lib.sh"
id=$(gql 'query($s: String!) { sectionBySourcedId(sourcedId: $s) { id } }' "{\"s\":\"$1\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["sectionBySourcedId"]["id"])')
started=$(gql 'mutation($i: SyncChangesInput!) { syncChanges(input: $i) { run { id state itemsSent itemsFailed } userErrors { message } } }' "{\"i\":{\"sectionId\":\"$id\"}}")
echo "$started"
run=$(printf '%s' "$started" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["syncChanges"]["run"]["id"])')
for _ in $(seq 1 300); do
  answer=$(gql 'query($id: ID!) { node(id: $id) { ... on SyncRun { state jobsTotal jobsSucceeded jobsFailed finishedAt } } }' "{\"id\":\"$run\"}")
  if ! printf '%s' "$answer" | grep -q '"finishedAt":null'; then echo "$answer"; exit 0; fi
  sleep 1
done
echo "the run is still going after 5 minutes" >&2; exit 1
