package dev.receptive.cli;

/**
 * Fields of tab-separated output: a tab or newline inside a field (a file or class name) would
 * start a new column or a new line that a reader of the output takes for real.
 */
final class Tsv {
    private Tsv() {
    }

    /** Tab, newline, carriage return and backslash as \t, \n, \r and \\; other control characters as \\uXXXX. */
    static String escape(String field) {
        StringBuilder sb = null;
        for (int i = 0; i < field.length(); i++) {
            char ch = field.charAt(i);
            String replacement = switch (ch) {
                case '\t' -> "\\t";
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                case '\\' -> "\\\\";
                default -> Character.isISOControl(ch) || ch == '\u2028' || ch == '\u2029'
                        ? String.format("\\u%04x", (int) ch) : null;
            };
            if (replacement != null && sb == null) {
                sb = new StringBuilder(field.length() + 8).append(field, 0, i);
            }
            if (sb != null) {
                if (replacement != null) {
                    sb.append(replacement);
                } else {
                    sb.append(ch);
                }
            }
        }
        return sb == null ? field : sb.toString();
    }
}
