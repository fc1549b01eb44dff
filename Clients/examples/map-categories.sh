#!/usr/bin/env bash
# Save a section's category map by titles: map-categories.sh SECTION Homework=Homework Quizzes=Tests ...
source "$(dirname "$0")/lib.sh"
section="$1"; shift
# Read the section's categories, then build the map from the titles given.
answer=$(gql 'query($s: String!) { sectionBySourcedId(sourcedId: $s) { id lmsCategories(first: 100) { nodes { id title } } sisCategories(first: 100) { nodes { id title } } } }' "{\"s\":\"$section\"}")
input=$(python3 - "$answer" "$@" <<'PY'
import json, sys
section = json.loads(sys.argv[1])["data"]["sectionBySourcedId"]
lms = {c["title"]: c["id"] for c in section["lmsCategories"]["nodes"]}
sis = {c["title"]: c["id"] for c in section["sisCategories"]["nodes"]}
rows = []
for pair in sys.argv[2:]:
    left, right = pair.split("=", 1)
    if left not in lms: sys.exit(f"no LMS category '{left}' (there are: {', '.join(lms)})")
    if right not in sis: sys.exit(f"no SIS category '{right}' (there are: {', '.join(sis)})")
    rows.append({"lmsCategoryId": lms[left], "sisCategoryId": sis[right]})
print(json.dumps({"i": {"sectionId": section["id"], "map": rows}}))
PY
)
gql 'mutation($i: SaveCategoryMapInput!) { saveCategoryMap(input: $i) { section { configured categoryMap(first: 100) { nodes { lmsCategory { title } sisCategory { title } } } } userErrors { field message code } } }' "$input"
