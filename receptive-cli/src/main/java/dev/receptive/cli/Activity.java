package dev.receptive.cli;

/**
 * What the command line is doing, in words, for the one line printed when it runs out of memory
 * ("out of memory while loading fashion-mnist from data/"). Commands set it as they go.
 */
final class Activity {
    private static volatile String current = "starting";

    private Activity() {
    }

    static void set(String what) {
        current = what;
    }

    static String current() {
        return current;
    }
}
