#!/usr/bin/env bash
# Mutation testing of erpbridge's promise packages with gremlins
# (github.com/go-gremlins/gremlins): each mutant — a flipped comparison, a
# negated condition, a changed operator — is compiled into a copy of the
# module and the package's own tests are run against it; a mutant the tests
# do not notice "lived". docs/testing.md has the scores and the mutants that
# live on, each explained.
#
# usage: scripts/mutation.sh [package ...]
#   packages default to the promise packages (PACKAGES below), run one at a
#   time; each is mutated on its own files only (not its subpackages).
# environment:
#   ERPBRIDGE_TEST_PG_DSN  also run the PostgreSQL integration tests (more
#                          mutants killed in the SQL dialect code)
#   MUTATION_DIFF=main     only mutate lines changed since that git ref
#   MUTATION_OUT=dir       where logs and JSON go (default a temp folder)
#   MUTATION_LIMIT=90m     bound of one package's run (coreutils timeout)
#   MUTATION_WORKERS=1     parallel mutants; each runs `go test` of a copy
#   MUTATION_TIMEOUT_COEFFICIENT=10
#                          a mutant's tests may take this many times the
#                          coverage run before it counts as timed out
#   GREMLINS=path          a gremlins binary to use instead of installing
# gremlins is installed (once) into a temp folder, never into go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(bridge bridge/store bridge/inbound mapping erp/sqlerp)
GREMLINS_VERSION=v0.6.0

if [ $# -gt 0 ]; then PACKAGES=("$@"); fi
out="${MUTATION_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/erpbridge-mutation.XXXXXX")}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

bin="${GREMLINS:-}"
if [ -z "$bin" ]; then
  gobin="${TMPDIR:-/tmp}/erpbridge-gremlins-$GREMLINS_VERSION"
  if [ ! -x "$gobin/gremlins" ]; then
    echo "installing gremlins $GREMLINS_VERSION into $gobin"
    GOBIN="$gobin" go install "github.com/go-gremlins/gremlins/cmd/gremlins@$GREMLINS_VERSION"
  fi
  bin="$gobin/gremlins"
fi

# The coverage run's time, times the coefficient, bounds each mutant's
# tests: measure it without the test cache.
export GOFLAGS="${GOFLAGS:-} -count=1"

args=(unleash --workers "${MUTATION_WORKERS:-1}" --timeout-coefficient "${MUTATION_TIMEOUT_COEFFICIENT:-10}"
  # one package at a time: files in subfolders (subpackages) are left out
  --exclude-files '/')
if [ -n "${MUTATION_DIFF:-}" ]; then args+=(--diff "$MUTATION_DIFF"); fi

summary=()
status=0
for pkg in "${PACKAGES[@]}"; do
  name="${pkg//\//_}"
  echo "==> $pkg (log: $out/$name.log)"
  set +e
  (cd "$pkg" && timeout --foreground "${MUTATION_LIMIT:-90m}" "$bin" "${args[@]}" --output "$out/$name.json") \
    >"$out/$name.log" 2>&1
  rc=$?
  set -e
  # gremlins colours its report; keep the text plain
  sed -i 's/\x1b\[[0-9;]*m//g' "$out/$name.log"
  if [ $rc -ne 0 ]; then
    echo "   gremlins exited with $rc (124: over MUTATION_LIMIT); the log's tail:"
    tail -5 "$out/$name.log" | sed 's/^/   /'
    status=1
    summary+=("$pkg: did not finish (exit $rc)")
    continue
  fi
  grep -E '^ *LIVED' "$out/$name.log" | sed "s|LIVED \([A-Z_]*\) at |LIVED \1 at $pkg/|; s/^ */   /" || true
  counts="$(grep -E '^Killed: ' "$out/$name.log" | tail -1)"
  more="$(grep -E '^Timed out: ' "$out/$name.log" | tail -1)"
  eff="$(grep -E '^Test efficacy: ' "$out/$name.log" | tail -1)"
  summary+=("$pkg: $counts; $more; $eff")
done

echo
echo "==> summary (efficacy = killed / (killed + lived); logs and JSON in $out)"
printf '%s\n' "${summary[@]}"
exit $status
