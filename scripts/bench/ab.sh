#!/bin/bash
# A/B timing of two builds on the same data, back to back (one run each).
# OLD_BENCH / OLD_CERT: the older build's dlgeom-bench and dlgeom-cert binaries (copy them
# out of target/release before rebuilding). SELF=1 also times `verify` with its self-check.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$ROOT/target/bench
NEWB=$ROOT/target/release/dlgeom-bench
NEWC=$ROOT/target/release/dlgeom-cert
echo "date $(date -u) load $(cat /proc/loadavg)"
for D in ${SIZES:-q4-n1000 q4-n10000 q8-n1000}; do
  for which in old new; do
    if [ $which = old ]; then B=${OLD_BENCH:?}; C=${OLD_CERT:?}; else B=$NEWB; C=$NEWC; fi
    for mode in global families; do
      r=$(timeout 300 $B $mode $W/data-$D.json --repeat 1 | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["median_s"])' 2>/dev/null)
      echo "$D $which $mode ${r:-timeout}"
    done
    rm -rf /tmp/ab-out
    s=$(date +%s.%N); timeout 600 $C verify $W/data-$D.json --out /tmp/ab-out --no-self-check --quiet >/dev/null 2>&1; rc=$?; e=$(date +%s.%N)
    echo "$D $which verify-noself $(echo "$e - $s" | bc) rc=$rc"
    s=$(date +%s.%N); timeout 900 $C check /tmp/ab-out --data $W/data-$D.json --quiet >/dev/null 2>&1; rc=$?; e=$(date +%s.%N)
    echo "$D $which check $(echo "$e - $s" | bc) rc=$rc"
    if [ -n "${SELF:-}" ]; then
      rm -rf /tmp/ab-self
      s=$(date +%s.%N); timeout 900 $C verify $W/data-$D.json --out /tmp/ab-self --quiet >/dev/null 2>&1; rc=$?; e=$(date +%s.%N)
      echo "$D $which verify-self-checked $(echo "$e - $s" | bc) rc=$rc"
    fi
  done
done
echo "end $(date -u) load $(cat /proc/loadavg)"
