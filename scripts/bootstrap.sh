# Shared by quickstart.sh and test.sh (sourced, not run): make sure Python 3.10+ with venv
# and the given Debian packages are present, then create ./.venv.
set -euo pipefail

apt_install() {
    # apt_install PACKAGE...: install Debian packages, as root or through sudo.
    [ "$#" -gt 0 ] || return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "mqa: please install: $* (no apt-get on this machine)" >&2
        exit 2
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
            echo "mqa: please install (as root): apt-get install $*" >&2
            exit 2
        fi
    fi
    echo "mqa: installing Debian packages: $*" >&2
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >&2
}

ensure_venv() {
    # ensure_venv EXTRAS: create .venv (if needed) and install this project into it.
    local python="${PYTHON:-python3}"
    local missing=()
    command -v "$python" >/dev/null 2>&1 || missing+=(python3)
    if [ "${#missing[@]}" -eq 0 ] && ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        missing+=(python3-venv)
    fi
    apt_install "${missing[@]}"
    [ "${#missing[@]}" -eq 0 ] || python=python3
    # A C compiler and Python's headers build mqa's compiled fast paths (analyzer/_speedups.c);
    # without them mqa still works, in pure Python, about half as fast.
    local build=()
    command -v gcc >/dev/null 2>&1 || build+=(gcc)
    "$python" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
        || build+=(python3-dev)
    apt_install "${build[@]}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
        echo "mqa: Python 3.10 or newer is needed ($("$python" --version 2>&1) found)" >&2
        exit 2
    fi
    if [ ! -x .venv/bin/python ]; then
        "$python" -m venv .venv
    fi
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --editable ".$1" >&2
}
