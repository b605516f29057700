#!/usr/bin/env bash
# The load test (bench/load/run.sh) on PostgreSQL: starts a throwaway cluster
# with PostgreSQL's durable defaults (fsync and synchronous commit on, unlike
# the test cluster), runs the same interleaved table against a fresh
# database, and stops the cluster again, also on failure.
#
#   bench/load/postgres.sh [ROUNDS] [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
state="$(mktemp)"
cleanup() { tests/support/pg-cluster stop "$state" || true; }
trap cleanup EXIT
PG_CLUSTER_DURABLE=1 tests/support/pg-cluster start "$state" >&2
uri="$(grep '^postgresql://' "$state")"
psql -q "$uri/postgres" -c 'CREATE DATABASE keyward_bench' >&2
BENCH_DB="$uri/keyward_bench" bench/load/run.sh "$@"
