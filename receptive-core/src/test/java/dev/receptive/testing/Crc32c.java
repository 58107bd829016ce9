package dev.receptive.testing;

import java.util.Locale;

/**
 * CRC32C (Castagnoli) bit by bit, as RFC 3720 appendix B.4 defines it: reflected polynomial
 * 0x82F63B78, initial value and final XOR 0xFFFFFFFF. Independent of java.util.zip.CRC32C, which
 * the code under test uses; {@code Crc32cTest} checks it against the RFC's known answers.
 */
public final class Crc32c {
    private Crc32c() {
    }

    /** {@return the CRC32C of the bytes, each given as an int 0..255} */
    public static long of(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return of(b);
    }

    /** {@return the CRC32C of the bytes} */
    public static long of(byte[] bytes) {
        int crc = 0xFFFFFFFF;
        for (byte b : bytes) {
            crc ^= b & 0xFF;
            for (int k = 0; k < 8; k++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x82F63B78 : crc >>> 1;
            }
        }
        return ~crc & 0xFFFFFFFFL;
    }

    /** {@return eight lower-case hex digits, as model files record checksums} */
    public static String hex(long crc) {
        return String.format(Locale.ROOT, "%08x", crc);
    }
}
