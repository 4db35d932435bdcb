#!/usr/bin/env bash
# VIP failover benchmark: ha-vipd (HA-Raft, heartbeat 100 ms / election 300 ms) against keepalived
# VRRPv3 (advert_int 0.1 and 1), same namespace LAN, same faults, same client probe. Needs root.
# Not part of `mvn verify` or CI. See benchmarks/vip/README.md.
#
#   sudo benchmarks/vip/run.sh [--reps N] [--out DIR] [--systems a,b] [--scenarios a,b] [--keep-work]
#
# systems:   haraft, keepalived-0.1, keepalived-1            (default: all three)
# scenarios: kill9, portdown, sigterm, partition              (default: all four)
# Everything runs inside network namespaces named vipb<random>-{br,n1,n2,n3,c}, which this script
# creates and always removes (trap), together with every process running inside them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
reps=5
out="$repo/benchmarks/results/vip/$(date +%Y%m%d-%H%M%S)"
systems="haraft,keepalived-0.1,keepalived-1"
scenarios="kill9,portdown,sigterm,partition"
keep_work=0

while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --systems) systems="$2"; shift 2 ;;
    --scenarios) scenarios="$2"; shift 2 ;;
    --keep-work) keep_work=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "run.sh needs root (it creates network namespaces)" >&2; exit 1; }
for cmd in ip nft ping arping stdbuf java keepalived; do
  command -v "$cmd" >/dev/null || {
    echo "missing $cmd: apt-get install -y iproute2 nftables iputils-ping iputils-arping coreutils keepalived openjdk-17-jdk-headless" >&2
    exit 1
  }
done
[ -x /usr/sbin/ip ] || { echo "expected ip at /usr/sbin/ip" >&2; exit 1; }

jar="$repo/ha-vip-linux/target/ha-vipd.jar"
if [ ! -f "$jar" ]; then
  echo "building $jar" >&2
  (cd "$repo" && mvn -B -o -q -DskipTests package -pl ha-vip-linux -am)
fi

prefix="vipb$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')"
work="$(mktemp -d /tmp/vipbench.XXXXXX)"
bench_pid=""

cleanup() {
  set +e
  trap - EXIT INT TERM
  if [ -n "$bench_pid" ] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" 2>/dev/null          # its shutdown hook stops daemons and removes namespaces
    for _ in $(seq 1 100); do kill -0 "$bench_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$bench_pid" 2>/dev/null
  fi
  # whatever is left: processes inside our namespaces, then the namespaces themselves
  for ns in $(ip netns list | awk '{print $1}' | grep "^${prefix}-"); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  if [ "$keep_work" = 1 ]; then echo "work files kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$out"
{
  echo "# VIP failover benchmark run"
  echo
  echo "- started: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- host: $(uname -sr), $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "- load before (uptime): $(uptime)"
  echo "- keepalived: $(keepalived --version 2>&1 | head -1)"
  echo "- java: $(java -version 2>&1 | head -1)"
  echo "- ha-vipd jar: $jar (git $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo "- reps: $reps; systems: $systems; scenarios: $scenarios; namespaces: ${prefix}-*"
} > "$out/run-info.md"

java -Xmx256m -XX:+UseSerialGC "$here/VipBench.java" --prefix "$prefix" --reps "$reps" --out "$out" \
  --work "$work" --jar "$jar" --systems "$systems" --scenarios "$scenarios" > >(tee "$out/run.log") 2>&1 &
bench_pid=$!
rc=0
wait "$bench_pid" || rc=$?
bench_pid=""
mkdir -p "$out/daemon-logs"
cp "$work"/*.log "$work"/*.conf "$work"/*.properties "$out/daemon-logs/" 2>/dev/null || true

echo "- load after (uptime): $(uptime)" >> "$out/run-info.md"
echo "- finished: $(date -u +%Y-%m-%dT%H:%M:%SZ), exit $rc" >> "$out/run-info.md"
echo
echo "results in $out (vip-failover.md, vip-failover.csv, vip-failover-reps.csv, run.log, run-info.md, daemon-logs/)"
exit "$rc"
