package dev.receptive.backend;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@link BackendProvider} found when it checked whether it can run here.
 *
 * @param facts what was found, in order: library versions, the device, where natives come from
 * @param problems what stops the backend, each naming its fix; empty when it works
 */
public record BackendDiagnosis(Map<String, String> facts, List<String> problems) {
    /**
     * Copies both, keeping the order of the facts.
     *
     * @param facts what was found, in order
     * @param problems what stops the backend, each naming its fix
     */
    public BackendDiagnosis {
        facts = Collections.unmodifiableMap(new LinkedHashMap<>(facts));
        problems = List.copyOf(problems);
    }

    /**
     * Whether the backend can be used.
     *
     * @return true when there is no problem
     */
    public boolean available() {
        return problems.isEmpty();
    }

    /**
     * The diagnosis on one line.
     *
     * @return "works", or every problem with its fix, separated by "; "
     */
    public String reason() {
        return available() ? "works" : String.join("; ", problems);
    }

    /**
     * The short form for a fallback line.
     *
     * @return "works", or the first problem without its fix and how many more there are
     */
    public String summary() {
        if (available()) {
            return "works";
        }
        String first = problems.get(0);
        int colon = first.indexOf(": ");
        String head = colon > 0 ? first.substring(0, colon) : first;
        int more = problems.size() - 1;
        return more == 0 ? head : head + " (and " + more + " more problem" + (more == 1 ? "" : "s") + ")";
    }
}
