#!/bin/bash
for i in 1 2 3; do
  for v in before after; do
    if [ $v = before ]; then d=/work/wt/before; else d=/work/main; fi
    echo "$(date +%T) run $i $v load: $(cut -d' ' -f1-3 /proc/loadavg)" >> /tmp/b17/runs.log
    (cd $d && java -jar benchmarks/target/ha-raft-benchmarks.jar failover --systems haraft --reps 12 --out /tmp/b17/$v-$i > /tmp/b17/$v-$i.log 2>&1)
    echo "$(date +%T) end $i $v rc=$? load: $(cut -d' ' -f1-3 /proc/loadavg)" >> /tmp/b17/runs.log
  done
done
