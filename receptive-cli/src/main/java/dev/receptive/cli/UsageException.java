package dev.receptive.cli;

/** Bad usage the command line reports with exit code 2: a missing or unfit file, a wrong value. */
final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }

    UsageException(String message, Throwable cause) {
        super(message, cause);
    }
}
