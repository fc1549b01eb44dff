#!/usr/bin/env bash
# Admins: error counts across the org, grouped by code (default), school or teacher.
source "$(dirname "$0")/lib.sh"
group=$(printf '%s' "${1:-code}" | tr '[:lower:]' '[:upper:]')
gql 'query($g: SyncErrorGrouping!) { syncErrorSummary(groupBy: $g, first: 20) { totalCount nodes { key label count } } syncErrors(first: 5) { totalCount nodes { code message section { sourcedId } material { title } } } }' "{\"g\":\"$group\"}"
