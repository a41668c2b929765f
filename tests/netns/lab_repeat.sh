#!/usr/bin/env bash
# The lab started N times in a row (lab/repeat.sh): no setup may fail, every eid-notify channel
# must agree at both ends each time. CI runs a short loop; lab/repeat.sh 30 is the long one.
# usage: lab_repeat.sh BUILD_BIN_DIR N [LAB-ARGS...]
set -u
[ "$(id -u)" -eq 0 ] || { echo "SKIP: the lab needs root"; exit 77; }
VMROAM_BIN=$(realpath "$1") exec "$(dirname "$0")/../../lab/repeat.sh" "$2" "${@:3}"
