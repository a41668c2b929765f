#!/usr/bin/env bash
# A long soak of the deterministic simulation (README "Simulation"): SEEDS seeds (default 1000)
# from FIRST (default 1000, past CI's); prints each failure (seed, invariant, shrunk actions, the
# command that replays it) and the totals. Exit status 1 if any seed failed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
exec "$top/tests/sim/run" --seed "${FIRST:-1000}" --seeds "${SEEDS:-1000}"
