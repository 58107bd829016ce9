# Receptive on CPU hosts: the command line on a Java 17 runtime, the pure-Java CPU backend.
#
#   docker build -t receptive .
#   docker run --rm receptive doctor
#   docker run --rm -v "$PWD/data:/data:ro" -v "$PWD/runs:/runs" receptive train --dataset mnist --out /runs/mnist
#
# Dockerfile.cuda is the same on NVIDIA's CUDA image. The base images are build arguments, so
# the image builds from any registry or from local images (scripts/container-test.sh builds and
# tests it from Debian without a registry). Behind a network that re-signs HTTPS, give the
# Maven build a Java truststore that trusts it:
#   docker build --secret id=truststore,src="$JAVA_HOME/lib/security/cacerts" -t receptive .

# A JDK 17 with Maven 3.8 or newer, and `mvn` on the PATH.
ARG BUILD_IMAGE=maven:3.9-eclipse-temurin-17
# A Java 17 runtime with `java` on the PATH, on a Debian or Ubuntu base (apt-get).
ARG RUNTIME_IMAGE=eclipse-temurin:17-jre

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
# The whole checkout minus .dockerignore: every module the root pom lists must be present.
COPY . .
# Only the command line and what it depends on; the tests ran in CI. The Maven repository is a
# build cache, so a rebuild downloads nothing.
RUN --mount=type=cache,id=receptive-maven,target=/root/.m2/repository \
    --mount=type=secret,id=truststore \
    if [ -f /run/secrets/truststore ]; then export MAVEN_OPTS="-Djavax.net.ssl.trustStore=/run/secrets/truststore"; fi \
    && mvn -B -q -pl receptive-cli -am package -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true

FROM ${RUNTIME_IMAGE}
# fontconfig and a font: the JRE draws the training curves (PNG) headless.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fontconfig fonts-dejavu-core \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/receptive-cli/target/receptive.jar /opt/receptive/receptive.jar
# Datasets are read from /data (mnist/, fashion-mnist/); mount a folder holding the IDX files.
ENV RECEPTIVE_DATA=/data RECEPTIVE_IMAGE=cpu
WORKDIR /runs
# The CPU backend's Vector API kernels need jdk.incubator.vector: stop the build here if this
# runtime lacks it, rather than ship an image several times slower.
RUN java --list-modules | grep -q '^jdk.incubator.vector@' \
    || { echo "the Java runtime has no jdk.incubator.vector module" >&2; exit 1; }
# Healthy when the CPU backend works; CUDA is not expected here.
HEALTHCHECK --interval=10m --timeout=60s --start-period=20s \
    CMD ["java", "--add-modules", "jdk.incubator.vector", "-jar", "/opt/receptive/receptive.jar", "doctor", "--require", "cpu"]
# The heap may take 75% of the container's memory limit (Java's default is 25%); -Xmx in
# JDK_JAVA_OPTIONS overrides it.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "--add-modules", "jdk.incubator.vector", "-jar", "/opt/receptive/receptive.jar"]
# By default the image serves /models/model.safetensors (mount a folder holding it) on port 8080
# under the name "model"; any other command replaces this one (train, predict, evaluate, ...).
# SIGTERM drains the requests in flight for up to 8 s, inside the 10 s a container stop allows.
EXPOSE 8080
CMD ["serve", "/models/model.safetensors", "--port", "8080", "--drain-timeout-s", "8"]
