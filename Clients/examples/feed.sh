#!/usr/bin/env bash
# The LMS feed (integration token): a course linked to a section, a category, a material, a grade.
source "$(dirname "$0")/lib.sh"
course="$1"; section="$2"
gql 'mutation($i: UpsertLmsCourseInput!) { upsertLmsCourse(input: $i) { lmsCourse { id lmsId } userErrors { message } } }' \
  "{\"i\":{\"lmsId\":\"$course\",\"title\":\"Course $course\",\"sectionSourcedIds\":[\"$section\"],\"categories\":[{\"lmsId\":\"hw\",\"title\":\"Homework\"}]}}"
gql 'mutation($i: UpsertMaterialsInput!) { upsertMaterials(input: $i) { materials(first: 100) { nodes { lmsId ids } } userErrors { field message } } }' \
  "{\"i\":{\"courseLmsId\":\"$course\",\"materials\":[{\"lmsId\":\"essay-1\",\"title\":\"Essay 1\",\"dueDate\":\"2026-09-15T15:00:00Z\",\"categoryLmsId\":\"hw\",\"maxPoints\":20}]}}"
student="${3:-}"
if [ -n "$student" ]; then
  gql 'mutation($i: RecordGradesInput!) { recordGrades(input: $i) { recorded userErrors { field message } } }' \
    "{\"i\":{\"courseLmsId\":\"$course\",\"grades\":[{\"materialLmsId\":\"essay-1\",\"studentSourcedId\":\"$student\",\"score\":18,\"comment\":\"Well argued.\"}]}}"
fi
