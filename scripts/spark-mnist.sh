#!/usr/bin/env bash
# Train the seed net on MNIST with Apache Spark in local mode (local[*] unless --master says
# otherwise): builds receptive-spark's application jar, puts Spark's jars (the module's
# `provided` dependencies, from the local Maven repository) beside it and runs the example.
# Options are TrainMnistOnSpark's: --epochs N, --steps N, --batch N, --partitions N, --lr X,
# --seed N, --backend auto|cpu|cuda, --gang, --all-reduce N, --checkpoints DIR,
# --checkpoint-every N, --resume, --data DIR, --out FILE, --master URL.
# The driver JVM gets the Vector API module (local mode's executor is the driver, so its kernels
# are the fast ones) and Spark's own module options; RECEPTIVE_SPARK_JAVA_OPTS replaces -Xmx6g.
# MNIST must be in the data folder first: scripts/fetch-datasets.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# In local mode Spark needs no network interface but the loopback one.
if [[ " $* " != *" --master "* ]]; then
    export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
fi

mvn -B -q -pl receptive-spark -am package dependency:build-classpath -DskipTests \
    -Dmdep.includeScope=provided -Dmdep.outputFile=target/provided.classpath
JVM_FLAGS=(--add-modules jdk.incubator.vector -XX:+IgnoreUnrecognizedVMOptions
    --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED)
exec java "${JVM_FLAGS[@]}" ${RECEPTIVE_SPARK_JAVA_OPTS:--Xmx6g} -Dlog4j2.configurationFile=scripts/spark-log4j2.properties \
    -cp "receptive-spark/target/receptive-spark-app.jar:$(cat receptive-spark/target/provided.classpath)" \
    dev.receptive.spark.TrainMnistOnSpark "$@"
