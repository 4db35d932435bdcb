#!/usr/bin/env bash
# Smoke run of the side-by-side harness (HA-Raft against Ratis and Atomix): every suite in --quick mode, real node JVMs, by hand.
# `mvn -B verify` runs the same through benchmarks/src/test/java/io/haraft/bench/QuickRunIT.java.
# Usage: benchmarks/run-quick.sh [OUT_DIR] [SYSTEMS]   (defaults: benchmarks/target/quick, haraft,ratis,atomix)
# Needs `mvn -B -q -DskipTests -pl benchmarks -am package` first.
# --strict makes the run fail unless failover.csv, throughput.csv and footprint.csv (with their .md
# and .png) have a measured row for every system and none says "unavailable: ...".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/target/quick}
systems=${2:-haraft,ratis,atomix}
jar=$here/target/ha-raft-benchmarks.jar
[ -f "$jar" ] || { echo "missing $jar: build first (see docs/benchmarks.md)" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out"
"$here/machine-info.sh" "$out" > "$out/machine.md"
start=$(date +%s)
status=0
java -Djava.awt.headless=true -jar "$jar" all --systems "$systems" --quick --strict --out "$out" || status=$?
took=$(( $(date +%s) - start ))
echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.md"
echo "quick run took ${took} s (budget 180 s)"
[ "$took" -le 180 ] || echo "WARN: over the 3-minute budget" >&2
exit $status
