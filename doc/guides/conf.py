# SPDX-License-Identifier: BSD-3-Clause
# Sphinx configuration of xnb's guides (DPDK's doc/guides layout); the
# docs test renders them with warnings as errors.
project = 'xnb'
copyright = 'xnb authors'
extensions = []
master_doc = 'index'
exclude_patterns = []
html_theme = 'alabaster'
