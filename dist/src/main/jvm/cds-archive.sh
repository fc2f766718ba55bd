#!/bin/sh
# Builds kube-ferry's class-data sharing (AppCDS) archive: the JDK's and kube-ferry's classes that the agent
# loads up to its first sync (classes.lst, recorded from a real run by StartupMemoryBenchmark with
# -Dkube-ferry.benchmark.write-classlist=true), parsed, verified and laid out once, at image build, instead
# of at every start. The image runs this (manifests/image/Dockerfile) and StartupMemoryBenchmark runs it
# on the jar it measures, so both start the same way.
#
# Usage: cds-archive.sh JAR ARCHIVE
# JAR must be given as the same path the agent is later started with (`java -jar JAR`): the JVM uses the
# archive only when the class path matches the one it was dumped with (and the jar's size and time), and
# otherwise starts without it (more slowly), saying so in a warning. A class in classes.lst that the jar no
# longer has is skipped with a warning; a new class is not in the archive and loads as usual.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec java @"$here/jvm.options" -Xshare:dump -XX:SharedClassListFile="$here/classes.lst" -XX:SharedArchiveFile="$2" -cp "$1"
