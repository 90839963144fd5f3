# SPDX-License-Identifier: BSD-3-Clause
# 13-rx-interrupts, guest part: ping dom0, stay quiet while dom0 measures
# its idle forwarder, then on "go" send 4 MiB to dom0 over TCP and report
# the checksum.
xg_net_up 120
xg_ping 4 "$XG_DOM0_IP4"
xg_wait_word go 600
xg_xfer XFER 4194304 5301
