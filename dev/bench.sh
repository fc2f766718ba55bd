#!/usr/bin/env bash
# The benchmarks at their full sizes: the figures in the README's "Benchmark figures" tables. Run as root,
# like the tests. The test run (`mvn -B -ntp verify`, and CI) runs the same benchmark classes at small
# sizes, so they cannot rot; this runs them with -Dkube-ferry.benchmark=full (see BenchmarkScale):
# iptables syncs at 1,000 and 10,000 Services (legacy and nft), network programming latency at 100, 1,000
# and 10,000 Services, IPVS reconciles at 1,000 and 10,000 virtual services in the guest kernel, and the
# shipped agent process's start-up, memory and CPU at 1,000 Services (StartupMemoryBenchmark).
# Expect well over half an hour on 2 cores, most of it in iptables-nft-restore of 170,000 rules.
# UpstreamComparisonBenchmark (kube-ferry against upstream kube-proxy 1.35.4 in the same run) writes its own
# report, docs/benchmarks/upstream.md with PNG bar charts beside it, headed by the command that made it.
#
# Usage: dev/bench.sh [OUTPUT.md]   (default docs/benchmarks/latest.md)
# Extra Maven arguments go in BENCH_MVN_ARGS, e.g. BENCH_MVN_ARGS=-Dtest=IptablesSyncBenchmark, or
# BENCH_MVN_ARGS=-Dtest=UpstreamComparisonBenchmark for the comparison with upstream kube-proxy alone.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/benchmarks/latest.md}

dev/setup.sh
reports=integration-tests/target/surefire-reports
rm -f "$reports"/*Benchmark-output.txt
start=$(date +%s)
# Each class's output goes to its own file (surefire-reports/<class>-output.txt), from which the tables
# are taken; the agent's log lines stay there too. A failed benchmark still gets the others' tables
# written, and this script then exits non-zero.
rc=0
# The command as typed, for the header of the reports that name it (docs/benchmarks/upstream.md).
command="dev/bench.sh${1:+ $1}"
if [ -n "${BENCH_MVN_ARGS:-}" ]; then
  command="BENCH_MVN_ARGS=\"${BENCH_MVN_ARGS}\" $command"
fi
# shellcheck disable=SC2086
mvn -B -ntp -pl integration-tests -am verify -Dkube-ferry.benchmark=full -Dtest='*Benchmark' \
    -Dsurefire.failIfNoSpecifiedTests=false -Dmaven.test.redirectTestOutputToFile=true -Dsurefire.timeout=0 \
    "-Dkube-ferry.benchmark.docs=$PWD/docs/benchmarks" "-Dkube-ferry.benchmark.command=$command" \
    ${BENCH_MVN_ARGS:-} || rc=$?
took=$(( $(date +%s) - start ))

mkdir -p "$(dirname "$out")"
{
  echo "# kube-ferry benchmarks, full sizes"
  echo
  echo "Written by \`dev/bench.sh\` on $(date -u +%Y-%m-%dT%H:%MZ) from commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (with local changes)'),"
  echo "in ${took} s on $(nproc) cores, kernel $(uname -r), $(iptables --version)."
  if [ -n "${BENCH_MVN_ARGS:-}" ]; then
    echo
    echo "Extra Maven arguments: \`${BENCH_MVN_ARGS}\`."
  fi
  if [ "$rc" -ne 0 ]; then
    echo
    echo "**The run failed (Maven exit $rc): see the Maven output; tables below are from the classes that printed one.**"
  fi
  for f in "$reports"/*Benchmark-output.txt; do
    [ -e "$f" ] || continue
    cls=$(basename "$f" -output.txt)
    echo
    echo "## ${cls##*.}"
    echo
    if [ "${cls##*.}" = UpstreamComparisonBenchmark ]; then
      # Its tables and plots are a report of their own.
      echo "Tables and plots: docs/benchmarks/upstream.md."
      continue
    fi
    echo '```'
    # The tables are the paragraphs of plain stdout: paragraphs holding a log line (ISO timestamp) or a
    # stack trace are dropped.
    awk 'BEGIN { RS = ""; FS = "\n" }
         { for (i = 1; i <= NF; i++)
             if ($i ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T/ || $i ~ /^[ \t]+at / || $i ~ /^Caused by: /) next
           print; print "" }' "$f" | sed -e '${/^$/d}'
    echo '```'
  done
} > "$out"
cat "$out"
echo "bench: tables written to $out"
exit "$rc"
