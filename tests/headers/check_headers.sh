#!/usr/bin/env bash
# Every public header compiles on its own (Beast-style self-containment, CONVENTIONS.md item 12).
#
# Usage: check_headers.sh [SOURCE_ROOT]     (default: the repository this script is in)
# Environment: CXX (default g++), NURT_HEADER_JOBS (parallel compilers, default 2).
#
# For each engine/include/nurt/**/*.hpp, compiles a translation unit that includes only that header,
# twice (so a missing include guard / #pragma once shows up as a redefinition), with
#   $CXX -std=c++20 -fsyntax-only -Wall -Wextra -I engine/include -I <lua 5.4 headers>
# Prints "ok <header>" or "FAIL <header>", each followed by any compiler messages, then a summary.
# Exit status: 0 when every header compiles alone, 1 when any fails, 2 when there is nothing to check.
set -euo pipefail

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
root="$(cd "$root" && pwd)"
include="$root/engine/include"
cxx="${CXX:-g++}"
jobs="${NURT_HEADER_JOBS:-2}"
lua_include=/usr/include/lua5.4

if [[ ! -d "$include/nurt" ]]; then
  echo "check_headers.sh: no public headers under $include/nurt" >&2
  exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/nurt-headers.XXXXXX")"
trap 'rm -rf "$work"' EXIT

mapfile -t headers < <(cd "$include" && find nurt -name '*.hpp' -type f | LC_ALL=C sort)
if [[ ${#headers[@]} -eq 0 ]]; then
  echo "check_headers.sh: no public headers under $include/nurt" >&2
  exit 2
fi

# One header: writes $work/<n>.log, and $work/<n>.fail when it does not compile.
check_one() {
  local header="$1" n="$2"
  local tu="$work/$n.cpp"
  printf '#include "%s"\n#include "%s"\n' "$header" "$header" >"$tu"
  if ! "$cxx" -std=c++20 -fsyntax-only -Wall -Wextra -I "$include" -I "$lua_include" "$tu" \
      >"$work/$n.log" 2>&1; then
    touch "$work/$n.fail"
  fi
}
export -f check_one
export cxx include lua_include work

for i in "${!headers[@]}"; do printf '%s\0%s\0' "${headers[$i]}" "$i"; done |
  xargs -0 -n 2 -P "$jobs" bash -c 'check_one "$1" "$2"' _

failed=()
for i in "${!headers[@]}"; do
  if [[ -e "$work/$i.fail" ]]; then
    failed+=("${headers[$i]}")
    echo "FAIL ${headers[$i]}"
    sed "s|$work/$i.cpp|<tu including ${headers[$i]}>|g" "$work/$i.log"
  elif [[ -s "$work/$i.log" ]]; then
    echo "ok   ${headers[$i]} (with warnings)"
    sed "s|$work/$i.cpp|<tu including ${headers[$i]}>|g" "$work/$i.log"
  else
    echo "ok   ${headers[$i]}"
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "${#failed[@]} of ${#headers[@]} public headers do not compile on their own:"
  printf '  %s\n' "${failed[@]}"
  echo "Include what each one uses (and keep #pragma once) so it compiles as the first include of a file."
  exit 1
fi
echo "all ${#headers[@]} public headers compile on their own"
