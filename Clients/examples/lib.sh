#!/usr/bin/env bash
# gql DOCUMENT [VARIABLES_JSON]: POST a GraphQL document to Passback and print the answer.
set -euo pipefail
PASSBACK_URL="${PASSBACK_URL:-http://127.0.0.1:8080}"
: "${PASSBACK_TOKEN:?set PASSBACK_TOKEN to a Passback token (passback token create)}"

gql() {
  local document="$1" variables="${2:-}"
  [ -n "$variables" ] || variables='{}'
  # The document goes into a JSON string: escape backslashes and quotes, join lines.
  local escaped
  escaped=$(printf '%s' "$document" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr '\n' ' ')
  curl -sS --fail-with-body "$PASSBACK_URL/graphql" \
    -H "Authorization: Bearer $PASSBACK_TOKEN" -H 'Content-Type: application/json' \
    -d "{\"query\":\"$escaped\",\"variables\":$variables}"
  echo
}
