#!/usr/bin/env bash
# Train the seed net on MNIST with Apache Spark in local mode (local[*] unless --master says
# otherwise): builds receptive-spark's application jar, puts Spark's jars (the module's
# `provided` dependencies, from the local Maven repository) beside it and runs the example.
# Options are TrainMnistOnSpark's: --epochs N, --steps N, --batch N, --partitions N, --lr X,
# --seed N, --backend auto|cpu|cuda, --gang, --data DIR, --out FILE, --master URL.
# MNIST must be in the data folder first: scripts/fetch-datasets.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# In local mode Spark needs no network interface but the loopback one.
if [[ " $* " != *" --master "* ]]; then
    export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
fi

mvn -B -q -pl receptive-spark -am package dependency:build-classpath -DskipTests \
    -Dmdep.includeScope=provided -Dmdep.outputFile=target/provided.classpath
exec java ${RECEPTIVE_SPARK_JAVA_OPTS:--Xmx6g} -Dlog4j2.configurationFile=scripts/spark-log4j2.properties \
    -cp "receptive-spark/target/receptive-spark-app.jar:$(cat receptive-spark/target/provided.classpath)" \
    dev.receptive.spark.TrainMnistOnSpark "$@"
