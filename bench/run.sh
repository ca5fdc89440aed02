#!/usr/bin/env bash
# Builds the bench module (and what it depends on) in the reactor, then runs the benchmarks.
# Never `mvn install`. Options are system properties, passed through: see bench/README.md.
#   bench/run.sh                                   # everything (about 15-25 min on 2 cores)
#   bench/run.sh -Dbench.stores=postgres,redis -Dbench.records=100000
#   bench/run.sh -Dbench.mode=scale                # the scale run (SCALE.md), see bench/README.md
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -pl bench -am package -DskipTests -Dspotless.check.skip=true \
  dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=runtime
CP="bench/target/classes:$(cat bench/target/bench.classpath)"
exec java -Xms512m -Xmx1g -XX:+UseG1GC \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dorg.slf4j.simpleLogger.log.io.tandem.bench=info \
  -Dorg.slf4j.simpleLogger.log.io.tandem.testing=info \
  -Dbench.command="bench/run.sh $*" \
  "$@" -cp "$CP" io.tandem.bench.Bench
