#!/usr/bin/env bash
# Checks that the hand-made mutants of scripts/promise-mutants.txt are each
# killed: the mutant is applied to a copy of the working tree (tracked and
# untracked files; the tree itself is never touched) and its package's
# tests are run; a mutant under which they pass "lived" and fails this
# script, as does an entry whose old text is not found exactly once or a
# mutant that does not compile.
#
# usage: scripts/promise-mutants.sh [regexp]   only the promises matching it
# environment: ERPBRIDGE_TEST_PG_DSN also runs the PostgreSQL tests;
#   PROMISE_MUTANT_TIMEOUT bounds one mutant's tests (default 10m).
set -euo pipefail
cd "$(dirname "$0")/.."
list=scripts/promise-mutants.txt
only="${1:-}"
export GOFLAGS="${GOFLAGS:-} -count=1"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/erpbridge-promise-mutants.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$tmp"

killed=0 lived=0 broken=0
check() {
  local promise="$1" pkg="$2" file="$3" old="$4" new="$5" run="$6"
  [ -n "$promise" ] || return 0
  if [ -n "$only" ] && ! grep -qE -- "$only" <<<"$promise"; then return 0; fi
  local target="$tmp/$file"
  local n
  n="$(OLD="$old" perl -0ne 'print scalar(() = /\Q$ENV{OLD}\E/g)' "$target")"
  if [ "$n" != 1 ]; then
    echo "BROKEN  $promise: the old text occurs $n times in $file (update $list)"
    broken=$((broken + 1))
    return 0
  fi
  cp "$target" "$tmp/.orig"
  OLD="$old" NEW="$new" perl -0pi -e 's/\Q$ENV{OLD}\E/$ENV{NEW}/' "$target"
  local out rc=0
  out="$(cd "$tmp" && timeout "${PROMISE_MUTANT_TIMEOUT:-10m}" go test ${run:+-run "$run"} "$pkg" 2>&1)" || rc=$?
  cp "$tmp/.orig" "$target"
  if [ $rc -eq 0 ]; then
    echo "LIVED   $promise ($file: $old → $new; go test ${run:+-run '$run' }$pkg passes)"
    lived=$((lived + 1))
  elif grep -qE -- '--- FAIL|^panic:' <<<"$out"; then
    echo "KILLED  $promise"
    killed=$((killed + 1))
  else
    echo "BROKEN  $promise: the tests did not run (exit $rc):"
    tail -5 <<<"$out" | sed 's/^/        /'
    broken=$((broken + 1))
  fi
}

promise="" pkg="" file="" old="" new="" run=""
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    "#"*) ;;
    "")
      check "$promise" "$pkg" "$file" "$old" "$new" "$run"
      promise="" pkg="" file="" old="" new="" run="" ;;
    "promise: "*) promise="${line#promise: }" ;;
    "package: "*) pkg="${line#package: }" ;;
    "file: "*) file="${line#file: }" ;;
    "old: "*) old="${line#old: }" ;;
    "new: "*) new="${line#new: }" ;;
    "run: "*) run="${line#run: }" ;;
    *) echo "$list: cannot read: $line" >&2; exit 2 ;;
  esac
done <"$list"
check "$promise" "$pkg" "$file" "$old" "$new" "$run"

echo "promise mutants: $killed killed, $lived lived, $broken broken"
[ $lived -eq 0 ] && [ $broken -eq 0 ]
