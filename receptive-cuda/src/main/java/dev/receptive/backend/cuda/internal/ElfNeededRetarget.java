package dev.receptive.backend.cuda.internal;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Retargets a shared library to another major version of one of its dependencies, e.g. the JCublas
 * native from libcublas.so.12 to libcublas.so.13 on hosts with only CUDA 13's cuBLAS (see
 * docs/design.md, "The GPU stack"). Two things name the dependency in an ELF file, and both must
 * change:
 * <ul>
 *   <li>the DT_NEEDED entry of the dynamic section (which file the loader opens), and</li>
 *   <li>the version requirement in .gnu.version_r: cuBLAS versions its symbols with a version
 *       named like its soname, so the file entry (vn_file), the version name (vna_name) and that
 *       name's ELF hash (vna_hash) must all name the new library.</li>
 * </ul>
 * Both names have the same length, so the strings are rewritten in place in .dynstr and no offset
 * moves. Only 64-bit little-endian ELF (x86-64, aarch64) is handled.
 *
 * <p>When the new library does not define symbols in a version named like the requirement (checked
 * against its .gnu.version_d before anything is written; a base version of that name does not
 * count, see {@link Elf#versionDefinitions()}), the requirement is dropped instead: it is marked
 * weak (VER_FLG_WEAK, which the loader accepts when the version is missing) and every symbol bound
 * to it becomes unversioned (.gnu.version index 1), so the loader binds each to the default
 * version the new library exports.
 *
 * <pre>java -cp receptive.jar dev.receptive.backend.cuda.internal.ElfNeededRetarget IN OUT libcublas.so.12 /path/to/libcublas.so.13</pre>
 */
public final class ElfNeededRetarget {
    private static final int VER_NDX_GLOBAL = 1;

    private ElfNeededRetarget() {
    }

    /**
     * Writes IN retargeted from OLD_NAME to the library TARGET (a file: its soname is the new
     * dependency, its version definitions decide between renaming and dropping the version
     * requirement). Exit status 0 on success, 1 when the file cannot be retargeted, 2 on bad usage.
     *
     * @param args IN OUT OLD_NAME TARGET
     * @throws IOException when a file cannot be read or written
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: ElfNeededRetarget IN OUT OLD_NAME TARGET_LIBRARY");
            System.exit(2);
        }
        try {
            run(Path.of(args[0]), Path.of(args[1]), args[2], Path.of(args[3]), System.out);
        } catch (IllegalArgumentException e) {
            System.err.println("ElfNeededRetarget: " + e.getMessage());
            System.exit(1);
        }
    }

    /** Retargets {@code in} to the library file {@code target}, writing {@code out} atomically; says what it did. */
    static void run(Path in, Path out, String from, Path target, PrintStream log) throws IOException {
        Elf lib = Elf.read(target);
        String to = lib.soname() != null ? lib.soname() : target.getFileName().toString();
        byte[] elf = Files.readAllBytes(in);
        List<String> defined = lib.versionDefinitions();
        int changed = retarget(elf, from, to);
        String how;
        if (!lib.versioned() || defined.contains(to)) {
            how = !lib.versioned() ? to + " defines no symbol versions, so the requirement is ignored by the loader"
                    : to + " defines version " + to;
        } else {
            int symbols = unversion(elf, to);
            how = to + " defines versions " + defined + " but not " + to + ": the requirement is now weak and "
                    + symbols + " symbols are unversioned";
        }
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        Files.write(tmp, elf);
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        log.println("retargeted " + in.getFileName() + " from " + from + " to " + target + " (" + changed
                + " fields rewritten; " + how + ")");
    }

    /**
     * Rewrites {@code elf} in place so that it needs {@code to} instead of {@code from}; returns how
     * many fields (name strings and hashes) were rewritten.
     *
     * @throws IllegalArgumentException if the file is not 64-bit little-endian ELF, the names differ
     *     in length, or {@code from} is not a needed library
     */
    static int retarget(byte[] elf, String from, String to) {
        if (from.length() != to.length()) {
            throw new IllegalArgumentException("retarget: '" + from + "' and '" + to + "' must have the same length");
        }
        Elf e = Elf.of(elf, "retarget");
        if (!e.needed().contains(from)) {
            throw new IllegalArgumentException("retarget: the file does not need " + from + " (it needs " + e.needed() + ")");
        }
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        List<Integer> offsets = new ArrayList<>();
        byte[] want = from.getBytes(StandardCharsets.US_ASCII);
        // Every .dynstr string equal to `from` that DT_NEEDED, vn_file or a vna_name points at.
        int hashes = 0;
        for (int at : stringOffsets(elf, want)) {
            offsets.add(at);
        }
        for (List<Elf.NeededVersion> versions : e.versionNeeds().values()) {
            for (Elf.NeededVersion v : versions) {
                if (v.name().equals(from)) {
                    if (v.hash() != elfHash(from)) {
                        throw new IllegalArgumentException("retarget: vna_hash of " + from + " is not its ELF hash");
                    }
                    b.putInt(v.offset(), elfHash(to));
                    hashes++;
                }
            }
        }
        byte[] name = to.getBytes(StandardCharsets.US_ASCII);
        for (int at : offsets) {
            System.arraycopy(name, 0, elf, at, name.length);
        }
        return offsets.size() + hashes;
    }

    /**
     * Drops every version requirement on {@code library}: its Vernaux entries become weak and the
     * symbols bound to them unversioned. Returns how many symbols changed.
     */
    static int unversion(byte[] elf, String library) {
        Elf e = Elf.of(elf, "unversion");
        List<Elf.NeededVersion> versions = e.versionNeeds().get(library);
        if (versions == null || versions.isEmpty()) {
            throw new IllegalArgumentException("unversion: the file needs no symbol version of " + library);
        }
        if (e.versymOffset() < 0) {
            throw new IllegalArgumentException("unversion: the file has no .gnu.version section");
        }
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        List<Integer> indices = new ArrayList<>();
        for (Elf.NeededVersion v : versions) {
            b.putShort(v.offset() + 4, (short) (v.flags() | Elf.VER_FLG_WEAK));
            indices.add(v.index());
        }
        int changed = 0;
        List<Integer> versym = e.versymIndices();
        for (int i = 0; i < versym.size(); i++) {
            if (indices.contains(versym.get(i) & 0x7fff)) {
                b.putShort(e.versymOffset() + 2 * i, (short) VER_NDX_GLOBAL);
                changed++;
            }
        }
        return changed;
    }

    /** Offsets of the NUL-terminated strings equal to {@code want} that the dynamic section or version needs use. */
    private static List<Integer> stringOffsets(byte[] elf, byte[] want) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        List<Integer> out = new ArrayList<>();
        long shoff = b.getLong(0x28);
        int shentsize = Short.toUnsignedInt(b.getShort(0x3a));
        int shnum = Short.toUnsignedInt(b.getShort(0x3c));
        for (int i = 0; i < shnum; i++) {
            int sh = (int) (shoff + (long) i * shentsize);
            int type = b.getInt(sh + 4);
            if (type != Elf.SHT_DYNAMIC && type != Elf.SHT_GNU_VERNEED) {
                continue;
            }
            long offset = b.getLong(sh + 0x18);
            long size = b.getLong(sh + 0x20);
            long strtab = b.getLong((int) (shoff + (long) b.getInt(sh + 0x28) * shentsize) + 0x18);
            if (type == Elf.SHT_DYNAMIC) {
                for (long e = offset; e + 16 <= offset + size; e += 16) {
                    long tag = b.getLong((int) e);
                    if (tag == 0) {
                        break;
                    }
                    if (tag == 1) { // DT_NEEDED
                        note(elf, strtab + b.getLong((int) e + 8), want, out);
                    }
                }
            } else {
                long vn = offset;
                for (int n = 0; n < b.getInt(sh + 0x2c); n++) {
                    note(elf, strtab + Integer.toUnsignedLong(b.getInt((int) vn + 4)), want, out);
                    long aux = vn + Integer.toUnsignedLong(b.getInt((int) vn + 8));
                    for (int a = 0; a < Short.toUnsignedInt(b.getShort((int) vn + 2)); a++) {
                        note(elf, strtab + Integer.toUnsignedLong(b.getInt((int) aux + 8)), want, out);
                        aux += Integer.toUnsignedLong(b.getInt((int) aux + 12));
                    }
                    vn += Integer.toUnsignedLong(b.getInt((int) vn + 12));
                }
            }
        }
        return out;
    }

    /** Records {@code at} if the NUL-terminated string there is {@code want} and not yet recorded. */
    private static void note(byte[] elf, long at, byte[] want, List<Integer> offsets) {
        if (at < 0 || at + want.length >= elf.length || elf[(int) at + want.length] != 0) {
            return;
        }
        for (int k = 0; k < want.length; k++) {
            if (elf[(int) at + k] != want[k]) {
                return;
            }
        }
        if (!offsets.contains((int) at)) {
            offsets.add((int) at);
        }
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
