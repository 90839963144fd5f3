#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The netfront library against the small backend of netfront-selftest, on
# a private xenstored.
#
# Usage: test-netfront.sh SRCDIR BUILDDIR   (meson passes both)
set -eu

src=${1:?usage: test-netfront.sh SRCDIR BUILDDIR}
build=${2:?usage: test-netfront.sh SRCDIR BUILDDIR}
shim=${XNB_XENSTORED_SHIM:-$build/lib/xensim/libxnb_xenstored_shim.so}

if ! "$src/devtools/xnb-xenstored" path >/dev/null; then
	echo "test-netfront: FAIL: no xenstored (see above)"
	exit 1
fi
dir=$(mktemp -d /run/nf-test.XXXXXX 2>/dev/null) || dir=$(mktemp -d "${TMPDIR:-/tmp}/nf-test.XXXXXX")
cleanup() {
	"$src/devtools/xnb-xenstored" stop "$dir" >/dev/null 2>&1 || :
	rm -rf "$dir"
}
trap cleanup EXIT
"$src/devtools/xnb-xenstored" start "$dir" "$shim"
"$build/app/test-xnb/guest/netfront-selftest" "$dir"
