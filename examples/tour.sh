#!/usr/bin/env bash
# The five-minute tour of nurt (README, "A five-minute tour"); `bash .ci/tour` runs it after the build.
#
# On a throwaway SQLite store it validates the shipped workflows, draws the invoice machine, wins a lead
# (which spawns an installation project) and takes an invoice from draft through KSeF and two payments to
# its final state, then shows the invoice's history and proves the state follows from its event log.
# Every command is printed before it runs. Exits non-zero as soon as a step does not do what it should.
#
# Usage (from anywhere): bash examples/tour.sh        NURT_BIN=/path/to/nurt to use another binary
set -euo pipefail
cd "$(dirname "$0")/.."

nurt_bin="${NURT_BIN:-$PWD/build/engine/nurt}"
if [ ! -x "$nurt_bin" ]; then
  echo "tour: no nurt binary at $nurt_bin; build it first: bash .ci/build" >&2
  exit 1
fi

tour_dir="$(mktemp -d "${TMPDIR:-/tmp}/nurt-tour.XXXXXX")"
trap 'rm -rf "$tour_dir"' EXIT
export NURT_DB="$tour_dir/tour.db"   # the whole store: one SQLite file
export NURT_ORG=tour
export NURT_PATH=workflows:examples  # where `start`/`send` find the machines
export NURT_ACTOR=cli:tour

# Prints the arguments as one shell command line, quoting only what needs it.
shown() {
  local line="" a
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=@,+-]+$ ]]; then
      line+=" $a"
    else
      line+=" '${a//\'/\'\\\'\'}'"
    fi
  done
  printf '%s' "${line# }"
}

say() { printf '\n### %s\n' "$*"; }

# Runs `nurt ARGS...` after printing it; any failure stops the tour (set -e).
nurt() {
  printf '$ nurt %s\n' "$(shown "$@")"
  "$nurt_bin" "$@"
}

# Runs a command that must be refused: exit status 1 (not 0, not a usage error).
nurt_refused() {
  printf '$ nurt %s   # refused on purpose\n' "$(shown "$@")"
  local rc=0
  "$nurt_bin" "$@" || rc=$?
  if [ "$rc" -ne 1 ]; then
    echo "tour: expected 'nurt $1' to be refused with exit status 1, got $rc" >&2
    exit 1
  fi
}

# Checks one line of `nurt show ID` (e.g. "state:   won"); stops the tour when it differs.
expect_shown() {
  local id="$1" want="$2" got
  got="$("$nurt_bin" show "$id" | grep -F -x -- "$want" || true)"
  if [ -z "$got" ]; then
    echo "tour: 'nurt show $id' has no line '$want':" >&2
    "$nurt_bin" show "$id" >&2 || true
    exit 1
  fi
}

say "Check every shipped workflow: each problem would be printed as file:line:col"
mapfile -t workflow_files < <(find workflows examples -name '*.yaml' | sort)
nurt validate "${workflow_files[@]}"

say "Draw the invoice machine (Mermaid; --format dot for Graphviz)"
nurt graph examples/invoice.yaml

say "A lead from an architect: qualify it, then win it"
nurt start lead --id lead-017 --data '{"source":"architect","architect":"Pracownia Architektoniczna Lipa",
  "contact":{"name":"Anna Nowak","phone":"+48 601 200 300","email":"anna.nowak@example.pl"}}'
nurt_refused send lead-017 win --data '{"offer_number":"OF/2026/017"}'   # not qualified yet
nurt send lead-017 qualify --key qualify-1 --data '{"budget_grosze":4500000,"roof_area_m2":48,
  "region":"dolnoslaskie","annual_usage_kwh":5200}'
nurt send lead-017 qualify --key qualify-1 --data '{"budget_grosze":4500000,"roof_area_m2":48,
  "region":"dolnoslaskie","annual_usage_kwh":5200}'   # a client retry: applied once only
nurt send lead-017 win --data '{"offer_number":"OF/2026/017",
  "address":"ul. Polna 3, 55-080 Kąty Wrocławskie",
  "building":{"kind":"residential","usable_area_m2":160}}'
expect_shown lead-017 "state:   won"

say "Winning the lead spawned the installation project"
nurt ls
nurt show project-lead-017
expect_shown project-lead-017 "state:   choosing_panels"

say "An invoice: 10 000.00 zł net + 23% VAT, issued, sent, KSeF, paid in two parts (one late)"
nurt start invoice --id fv-2026-01-0042 --data '{"kind":"regular","title":"Projekt instalacji PV 6 kWp",
  "net_grosze":1000000,"vat_rate":23,
  "buyer":{"name":"Stolarnia Wiśniewski Sp. z o.o.","nip":"7891234564"}}'
nurt send fv-2026-01-0042 issue --data '{"number":"FV/2026/01/0042"}'
nurt send fv-2026-01-0042 invoice.sent --data '{"to":"ksiegowosc@stolarnia-wisniewski.pl"}'
nurt send fv-2026-01-0042 payment.received --data '{"amount_grosze":500000,
  "reference":"FV/2026/01/0042 zaliczka"}'
nurt send fv-2026-01-0042 invoice.overdue
nurt send fv-2026-01-0042 payment.received --data '{"amount_grosze":730000,
  "reference":"FV/2026/01/0042 reszta"}'
nurt send fv-2026-01-0042 ksef.accepted --data '{"ksef_number":"7891234564-20260131-0100A1B2C3D4-E5"}'
expect_shown fv-2026-01-0042 "state:   settled"
expect_shown fv-2026-01-0042 "status:  completed"
nurt_refused send fv-2026-01-0042 cancel   # a settled invoice accepts no events

say "Who did what, and when; and the state rebuilt from the event log alone"
nurt history fv-2026-01-0042
nurt replay fv-2026-01-0042 --until 3
nurt replay fv-2026-01-0042

printf '\ntour: done (store %s, removed on exit)\n' "$NURT_DB"
