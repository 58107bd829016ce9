package dev.receptive.backend.cuda;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Retargets a shared library to another major version of one of its dependencies, e.g. the JCublas
 * native from libcublas.so.12 to libcublas.so.13 on hosts with only CUDA 13's cuBLAS (see
 * docs/design.md, "The GPU stack"). Two things name the dependency in an ELF file, and both must change:
 * <ul>
 *   <li>the DT_NEEDED entry of the dynamic section (which file the loader opens), and</li>
 *   <li>the version requirement in .gnu.version_r: cuBLAS versions its symbols with a version
 *       named like its soname, so the file entry (vn_file), the version name (vna_name) and that
 *       name's ELF hash (vna_hash) must all name the new library.</li>
 * </ul>
 * Both names have the same length, so the strings are rewritten in place in .dynstr and no offset
 * moves. Only 64-bit little-endian ELF (x86-64, aarch64) is handled.
 *
 * <pre>java -cp receptive.jar dev.receptive.backend.cuda.ElfNeededRetarget IN OUT libcublas.so.12 libcublas.so.13</pre>
 */
public final class ElfNeededRetarget {
    private static final int SHT_DYNAMIC = 6;
    private static final int SHT_GNU_VERNEED = 0x6ffffffe;
    private static final long DT_NULL = 0;
    private static final long DT_NEEDED = 1;

    private ElfNeededRetarget() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: ElfNeededRetarget IN OUT OLD_NAME NEW_NAME");
            System.exit(2);
        }
        byte[] elf = Files.readAllBytes(Path.of(args[0]));
        int changed = retarget(elf, args[2], args[3]);
        Files.write(Path.of(args[1]), elf);
        System.out.println("retargeted " + args[0] + " -> " + args[1] + ": " + args[2] + " -> " + args[3] + " ("
                + changed + " fields rewritten)");
    }

    /**
     * Rewrites {@code elf} in place so that it needs {@code to} instead of {@code from}; returns how
     * many fields (name strings and hashes) were rewritten.
     *
     * @throws IllegalArgumentException if the file is not 64-bit little-endian ELF, the names differ
     *     in length, or {@code from} is not a needed library
     */
    public static int retarget(byte[] elf, String from, String to) {
        if (from.length() != to.length()) {
            throw new IllegalArgumentException("retarget: '" + from + "' and '" + to + "' must have the same length");
        }
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        if (elf.length < 64 || b.getInt(0) != 0x464c457f || elf[4] != 2 || elf[5] != 1) {
            throw new IllegalArgumentException("retarget: not a 64-bit little-endian ELF file");
        }
        List<Long> offsets = new ArrayList<>(); // file offsets of strings equal to `from`
        int hashes = 0;
        long shoff = b.getLong(0x28);
        int shentsize = Short.toUnsignedInt(b.getShort(0x3a));
        int shnum = Short.toUnsignedInt(b.getShort(0x3c));
        for (int i = 0; i < shnum; i++) {
            int sh = (int) (shoff + (long) i * shentsize);
            int type = b.getInt(sh + 4);
            if (type != SHT_DYNAMIC && type != SHT_GNU_VERNEED) {
                continue;
            }
            long offset = b.getLong(sh + 0x18);
            long size = b.getLong(sh + 0x20);
            int link = b.getInt(sh + 0x28);
            int info = b.getInt(sh + 0x2c);
            long strtab = b.getLong((int) (shoff + (long) link * shentsize) + 0x18);
            if (type == SHT_DYNAMIC) {
                for (long e = offset; e + 16 <= offset + size; e += 16) {
                    long tag = b.getLong((int) e);
                    if (tag == DT_NULL) {
                        break;
                    }
                    if (tag == DT_NEEDED) {
                        note(elf, strtab + b.getLong((int) e + 8), from, offsets);
                    }
                }
            } else {
                long vn = offset;
                for (int n = 0; n < info; n++) { // Elf64_Verneed entries
                    note(elf, strtab + Integer.toUnsignedLong(b.getInt((int) vn + 4)), from, offsets);
                    long aux = vn + Integer.toUnsignedLong(b.getInt((int) vn + 8));
                    int count = Short.toUnsignedInt(b.getShort((int) vn + 2));
                    for (int a = 0; a < count; a++) { // Elf64_Vernaux entries
                        long name = strtab + Integer.toUnsignedLong(b.getInt((int) aux + 8));
                        if (note(elf, name, from, offsets)) {
                            if (b.getInt((int) aux) != elfHash(from)) {
                                throw new IllegalArgumentException("retarget: vna_hash of " + from + " is not its ELF hash");
                            }
                            b.putInt((int) aux, elfHash(to));
                            hashes++;
                        }
                        aux += Integer.toUnsignedLong(b.getInt((int) aux + 12));
                    }
                    vn += Integer.toUnsignedLong(b.getInt((int) vn + 12));
                }
            }
        }
        if (offsets.isEmpty()) {
            throw new IllegalArgumentException("retarget: the file does not need " + from);
        }
        byte[] name = to.getBytes(StandardCharsets.US_ASCII);
        for (long at : offsets.stream().distinct().toList()) {
            System.arraycopy(name, 0, elf, (int) at, name.length);
        }
        return (int) offsets.stream().distinct().count() + hashes;
    }

    /** Records {@code at} if the NUL-terminated string there is {@code name}. */
    private static boolean note(byte[] elf, long at, String name, List<Long> offsets) {
        byte[] want = name.getBytes(StandardCharsets.US_ASCII);
        if (at < 0 || at + want.length >= elf.length || elf[(int) at + want.length] != 0) {
            return false;
        }
        for (int k = 0; k < want.length; k++) {
            if (elf[(int) at + k] != want[k]) {
                return false;
            }
        }
        offsets.add(at);
        return true;
    }

    /** The System V ELF hash (gABI "Hash Table"), the hash stored in vna_hash. */
    static int elfHash(String name) {
        int h = 0;
        for (byte c : name.getBytes(StandardCharsets.US_ASCII)) {
            h = (h << 4) + (c & 0xff);
            int g = h & 0xf0000000;
            if (g != 0) {
                h ^= g >>> 24;
            }
            h &= ~g;
        }
        return h;
    }
}
