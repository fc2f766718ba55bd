package io.kubeferry.proxy.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** oomScoreAdj, applied at start as kube-proxy applies it; without the privilege it is logged and start-up goes on. */
final class OomScoreAdj {

    private static final Logger LOG = LoggerFactory.getLogger(OomScoreAdj.class);

    private final Path file;

    OomScoreAdj(Path file) {
        this.file = file;
    }

    static OomScoreAdj self() {
        return new OomScoreAdj(Path.of("/proc/self/oom_score_adj"));
    }

    /** Writes the value; returns whether it took. */
    boolean apply(int value) {
        try {
            String current = Files.readString(file).strip();
            if (current.equals(Integer.toString(value))) {
                return true;
            }
            Files.writeString(file, Integer.toString(value));
            LOG.info("set oom_score_adj {} (was {})", value, current);
            return true;
        } catch (IOException e) {
            // Lowering the score needs CAP_SYS_RESOURCE; an unprivileged run keeps the inherited score.
            LOG.warn("cannot set oom_score_adj to {}: {}", value, e.getMessage());
            return false;
        }
    }
}
