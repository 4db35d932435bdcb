#!/usr/bin/env bash
# CI smoke test of the side-by-side harness (issue 7): every suite in --quick mode, real node JVMs.
# Usage: benchmarks/run-quick.sh [OUT_DIR] [SYSTEMS]   (defaults: benchmarks/target/quick, haraft,ratis,atomix)
# Needs `mvn -B -pl benchmarks -am package -DskipTests` first (or the two-step build in README.md).
# Checks that failover.csv, throughput.csv and footprint.csv exist with a row for every system
# (a system that cannot run, such as HA-Raft before its runtime lands, is a row "unavailable: ...").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/target/quick}
systems=${2:-haraft,ratis,atomix}
jar=$here/target/ha-raft-benchmarks.jar
[ -f "$jar" ] || { echo "missing $jar: build first (see README.md)" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out"
"$here/machine-info.sh" "$out" > "$out/machine.md"
start=$(date +%s)
java -Djava.awt.headless=true -jar "$jar" all --systems "$systems" --quick --out "$out"
took=$(( $(date +%s) - start ))
echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.md"
status=0
for suite in failover throughput footprint; do
  for f in csv md png; do
    [ -s "$out/$suite.$f" ] || { echo "FAIL: $out/$suite.$f missing" >&2; status=1; }
  done
  for s in ${systems//,/ }; do
    grep -q "^$s," "$out/$suite.csv" 2>/dev/null || { echo "FAIL: no $s row in $suite.csv" >&2; status=1; }
  done
done
echo "quick run took ${took} s (budget 180 s)"
[ "$took" -le 180 ] || echo "WARN: over the 3-minute budget" >&2
exit $status
