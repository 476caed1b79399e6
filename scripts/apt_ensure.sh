#!/usr/bin/env bash
# Install Debian packages a test needs when its check fails: idempotent (does nothing when the check
# passes), installs as root (CI on a fresh machine), and otherwise says what to install.
# Usage: apt_ensure.sh WHAT SKIP_VARIABLE CHECK_COMMAND PACKAGE...
#   SKIP_VARIABLE=1 in the environment skips the install (and the tests that need it skip themselves).
set -euo pipefail
what=$1 skip_variable=$2 check=$3
shift 3
[ "${!skip_variable:-}" = 1 ] && exit 0
if bash -c "$check"; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "$what not installed: run 'sudo apt-get install -y $*', or skip the tests that need it with $skip_variable=1." >&2
  exit 1
fi
echo "installing $what from the distribution's packages (apt-get install $*)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$@" >/dev/null
bash -c "$check"
