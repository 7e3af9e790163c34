#!/usr/bin/env bash
# compare.sh: the off-the-shelf comparison for issue 4. The same broadcast
# run as BenchmarkBroadcast1000Process (the reference stack as its own
# process, 1,000 WS subscribers, 250 events/s as 50 requests/s of 5), with
# k6 holding the 1,000 connections and doing the least a subscriber can do:
# count messages. Prints k6's CPU per delivered message over the driving
# window, read from /proc. Run by `make bench-k6` (which installs k6 into
# bin/ from the Go module proxy); everything listens on 127.0.0.1 only and
# stops by itself.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${BIN:?BIN: directory holding k6, thorstack and driver}
vus=${VUS:-1000}; secs=${SECS:-15}; port=${PORT:-18080}
log=$(mktemp -d)
trap 'kill $ts $k6 2>/dev/null || true; rm -rf "$log"' EXIT
"$bin/thorstack" --replay --addr 127.0.0.1:$port 2>"$log/thorstack.log" & ts=$!
sleep 1
"$bin/k6" run --quiet --no-usage-report -e WS_URL=ws://127.0.0.1:$port/ws/dashboard/ \
  -e VUS=$vus -e HOLD=$((secs + 15)) "$here/ws.js" >"$log/k6.out" 2>&1 & k6=$!
cpu() { awk '{print $14 + $15}' /proc/$1/stat; } # utime + stime, 10ms ticks
sleep 8 # k6 starts its VUs and connects them
c0=$(cpu $k6)
"$bin/driver" -url http://127.0.0.1:$port/__replay/events -rate 50 -batch 5 -d ${secs}s
sleep 1
c1=$(cpu $k6)
wait $k6 || true
kill -INT $ts; wait $ts || true
msgs=$(sed -nE 's/.* ([0-9]+) deliveries.*/\1/p' "$log/thorstack.log")
k6msgs=$(sed -nE 's/^ *ws_msgs\.+: ([0-9]+) .*/\1/p' "$log/k6.out")
echo "k6 $("$bin/k6" version | head -1 | cut -d' ' -f2): $vus connections, ${k6msgs:-?} messages counted (the stack delivered $msgs)"
echo "k6 CPU over the driving window: $(( (c1 - c0) * 10 )) ms = $(( (c1 - c0) * 10 * 1000000 / ${k6msgs:-1} )) ns per delivered message"
