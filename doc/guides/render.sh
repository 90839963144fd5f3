#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The docs test: render doc/guides (the PMD guide in DPDK's form) to HTML
# with Debian's Sphinx, warnings as errors.
# Usage: render.sh SRCDIR BUILDDIR   (meson passes both)
set -eu
src=${1:?usage: render.sh SRCDIR BUILDDIR}
build=${2:?usage: render.sh SRCDIR BUILDDIR}
if ! command -v sphinx-build >/dev/null 2>&1; then
	echo "docs: FAIL: sphinx-build is not installed (devtools/xnb-setup installs python3-sphinx)"
	exit 1
fi
rm -rf "$build/doc/guides-html"
sphinx-build -W -q -b html "$src/doc/guides" "$build/doc/guides-html"
test -s "$build/doc/guides-html/nics/xnb.html"
echo "docs: ok: $build/doc/guides-html/nics/xnb.html"
