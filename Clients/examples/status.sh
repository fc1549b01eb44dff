#!/usr/bin/env bash
# Every material of a section (by SIS sourcedId) with its status and problems.
source "$(dirname "$0")/lib.sh"
gql 'query($s: String!) { sectionBySourcedId(sourcedId: $s) { title materials(first: 100) {
  totalCount nodes { lmsId title dueDate syncStatus lastSyncedAt problems(first: 10) { totalCount nodes { code message } } } } } }' "{\"s\":\"$1\"}"
