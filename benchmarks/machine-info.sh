#!/usr/bin/env bash
# Describes the machine a benchmark ran on, as Markdown: benchmarks/machine-info.sh > DIR/machine.md
set -euo pipefail
probe_dir=${1:-${TMPDIR:-/tmp}}
echo "# Machine"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- nproc: $(nproc)"
echo "- cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "- memory: $(free -m | awk '/^Mem:/ {print $2 " MiB total, " $7 " MiB available"}')"
echo "- kernel: $(uname -srmv)"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- java -version:"
echo
echo '```'
java -version 2>&1
echo '```'
echo
# fsync probe: 500 synchronous 4 KiB appends (dd oflag=dsync) in the directory that holds the data.
f="$probe_dir/.fsync-probe-$$"
out=$(dd if=/dev/zero of="$f" bs=4k count=500 oflag=dsync 2>&1 | tail -1)
rm -f "$f"
secs=$(echo "$out" | sed -E 's/.* copied, ([0-9.]+) s.*/\1/')
echo "- fsync probe (dd bs=4k count=500 oflag=dsync in $probe_dir): $out;" \
     "mean $(awk -v s="$secs" 'BEGIN {printf "%.2f", s * 1000 / 500}') ms per synchronous 4 KiB write"
