package dev.receptive.backend.cuda.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The dynamic-linking view of a 64-bit little-endian ELF shared library, as {@code readelf -d -V
 * --dyn-syms} shows it: the libraries it needs, its soname, the symbol versions it needs from each
 * library (.gnu.version_r) and defines itself (.gnu.version_d), and its dynamic symbols with their
 * versions. Reads from a buffer (a mapped file for large libraries such as cuBLAS) and never
 * writes; {@link ElfNeededRetarget} edits in place the fields located here.
 *
 * <p>Layouts follow the System V gABI and the LSB's symbol versioning: Elf64_Shdr, Elf64_Dyn,
 * Elf64_Sym, Elf64_Verneed/Vernaux, Elf64_Verdef/Verdaux and the Elf64_Half .gnu.version table.
 */
final class Elf {
    static final int SHT_DYNSYM = 11;
    static final int SHT_DYNAMIC = 6;
    static final int SHT_GNU_VERDEF = 0x6ffffffd;
    static final int SHT_GNU_VERNEED = 0x6ffffffe;
    static final int SHT_GNU_VERSYM = 0x6fffffff;
    static final int VER_FLG_BASE = 0x1;
    static final int VER_FLG_WEAK = 0x2;
    private static final long DT_NULL = 0;
    private static final long DT_NEEDED = 1;
    private static final long DT_SONAME = 14;

    /** One version a library needs (an Elf64_Vernaux): its name, flags, index and where it sits in the file. */
    record NeededVersion(String name, int hash, int flags, int index, int offset) {
        /** A weak requirement: the loader accepts the library without this version. */
        boolean weak() {
            return (flags & VER_FLG_WEAK) != 0;
        }
    }

    /** A dynamic symbol: defined here or needed from elsewhere, with its version name (null if none). */
    record Symbol(String name, boolean defined, String version, boolean hidden) {
    }

    private final ByteBuffer b;
    private final String what;
    private final List<String> needed = new ArrayList<>();
    private String soname;
    private final Map<String, List<NeededVersion>> versionNeeds = new LinkedHashMap<>();
    private final Map<Integer, String> versionNames = new HashMap<>(); // index → name, needed and defined
    private final List<String> versionDefinitions = new ArrayList<>();
    private boolean hasVersionDefinitions;
    private final List<Symbol> symbols = new ArrayList<>();
    private int versymOffset = -1;
    private final List<Integer> versymIndices = new ArrayList<>();

    private Elf(ByteBuffer buffer, String what) {
        this.b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        this.what = what;
        parse();
    }

    /** Reads an ELF image held in memory; {@code what} names it in errors. */
    static Elf of(byte[] image, String what) {
        return new Elf(ByteBuffer.wrap(image), what);
    }

    /** Maps and reads a library file (nothing is copied onto the heap). */
    static Elf read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return new Elf(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()), file.toString());
        }
    }

    private void parse() {
        if (b.capacity() < 64 || b.getInt(0) != 0x464c457f || b.get(4) != 2 || b.get(5) != 1) {
            throw new IllegalArgumentException(what + ": not a 64-bit little-endian ELF file");
        }
        long shoff = b.getLong(0x28);
        int shentsize = Short.toUnsignedInt(b.getShort(0x3a));
        int shnum = Short.toUnsignedInt(b.getShort(0x3c));
        check(shoff + (long) shnum * shentsize <= b.capacity() && (shnum == 0 || shentsize >= 64), "section headers");
        int dynsym = -1;
        for (int i = 0; i < shnum; i++) {
            int sh = (int) (shoff + (long) i * shentsize);
            switch (b.getInt(sh + 4)) {
                case SHT_DYNAMIC -> readDynamic(sh, shoff, shentsize);
                case SHT_GNU_VERNEED -> readVerneed(sh, shoff, shentsize);
                case SHT_GNU_VERDEF -> readVerdef(sh, shoff, shentsize);
                case SHT_GNU_VERSYM -> versymOffset = offset(sh);
                case SHT_DYNSYM -> dynsym = sh;
                default -> {
                }
            }
        }
        if (dynsym >= 0) {
            readSymbols(dynsym, shoff, shentsize);
        }
    }

    private int offset(int sh) {
        long off = b.getLong(sh + 0x18);
        long size = b.getLong(sh + 0x20);
        check(off >= 0 && off + size <= b.capacity(), "section at " + off);
        return (int) off;
    }

    private int linkedStrings(int sh, long shoff, int shentsize) {
        int link = b.getInt(sh + 0x28);
        return offset((int) (shoff + (long) link * shentsize));
    }

    private void readDynamic(int sh, long shoff, int shentsize) {
        int off = offset(sh);
        long size = b.getLong(sh + 0x20);
        int strtab = linkedStrings(sh, shoff, shentsize);
        for (long e = off; e + 16 <= off + size; e += 16) {
            long tag = b.getLong((int) e);
            if (tag == DT_NULL) {
                break;
            }
            if (tag == DT_NEEDED) {
                needed.add(string(strtab + b.getLong((int) e + 8)));
            } else if (tag == DT_SONAME) {
                soname = string(strtab + b.getLong((int) e + 8));
            }
        }
    }

    private void readVerneed(int sh, long shoff, int shentsize) {
        int strtab = linkedStrings(sh, shoff, shentsize);
        long vn = offset(sh);
        int count = b.getInt(sh + 0x2c);
        for (int n = 0; n < count; n++) {
            String file = string(strtab + Integer.toUnsignedLong(b.getInt((int) vn + 4)));
            List<NeededVersion> versions = versionNeeds.computeIfAbsent(file, k -> new ArrayList<>());
            long aux = vn + Integer.toUnsignedLong(b.getInt((int) vn + 8));
            int auxCount = Short.toUnsignedInt(b.getShort((int) vn + 2));
            for (int a = 0; a < auxCount; a++) {
                String name = string(strtab + Integer.toUnsignedLong(b.getInt((int) aux + 8)));
                int index = Short.toUnsignedInt(b.getShort((int) aux + 6)) & 0x7fff;
                versions.add(new NeededVersion(name, b.getInt((int) aux), Short.toUnsignedInt(b.getShort((int) aux + 4)),
                        index, (int) aux));
                versionNames.put(index, name);
                aux += Integer.toUnsignedLong(b.getInt((int) aux + 12));
            }
            long next = Integer.toUnsignedLong(b.getInt((int) vn + 12));
            if (next == 0) {
                break;
            }
            vn += next;
        }
    }

    private void readVerdef(int sh, long shoff, int shentsize) {
        int strtab = linkedStrings(sh, shoff, shentsize);
        long vd = offset(sh);
        int count = b.getInt(sh + 0x2c);
        for (int n = 0; n < count; n++) {
            int flags = Short.toUnsignedInt(b.getShort((int) vd + 2));
            int index = Short.toUnsignedInt(b.getShort((int) vd + 4)) & 0x7fff;
            long aux = vd + Integer.toUnsignedLong(b.getInt((int) vd + 12));
            String name = string(strtab + Integer.toUnsignedLong(b.getInt((int) aux)));
            if ((flags & VER_FLG_BASE) != 0) {
                hasVersionDefinitions = true;
            } else {
                versionDefinitions.add(name);
                versionNames.put(index, name);
            }
            long next = Integer.toUnsignedLong(b.getInt((int) vd + 16));
            if (next == 0) {
                break;
            }
            vd += next;
        }
    }

    private void readSymbols(int sh, long shoff, int shentsize) {
        int off = offset(sh);
        long size = b.getLong(sh + 0x20);
        int strtab = linkedStrings(sh, shoff, shentsize);
        int count = (int) (size / 24);
        for (int i = 0; i < count; i++) {
            int sym = off + i * 24;
            int shndx = Short.toUnsignedInt(b.getShort(sym + 6));
            int raw = versymOffset >= 0 ? Short.toUnsignedInt(b.getShort(versymOffset + 2 * i)) : 1;
            versymIndices.add(raw);
            int index = raw & 0x7fff;
            String version = index >= 2 ? versionNames.get(index) : null;
            symbols.add(new Symbol(string(strtab + Integer.toUnsignedLong(b.getInt(sym))), shndx != 0, version,
                    (raw & 0x8000) != 0));
        }
    }

    private String string(long at) {
        check(at >= 0 && at < b.capacity(), "string at " + at);
        int end = (int) at;
        while (end < b.capacity() && b.get(end) != 0) {
            end++;
        }
        byte[] s = new byte[end - (int) at];
        b.get((int) at, s);
        return new String(s, StandardCharsets.ISO_8859_1);
    }

    private void check(boolean ok, String part) {
        if (!ok) {
            throw new IllegalArgumentException(what + ": damaged ELF file (" + part + " lies outside the file)");
        }
    }

    /** The DT_NEEDED libraries, in order. */
    List<String> needed() {
        return List.copyOf(needed);
    }

    /** The DT_SONAME, or null. */
    String soname() {
        return soname;
    }

    /** The versions needed from each library (vn_file → its Vernaux entries), as .gnu.version_r lists them. */
    Map<String, List<NeededVersion>> versionNeeds() {
        return versionNeeds;
    }

    /**
     * The names of the versions this library defines symbols in. The base version (VER_FLG_BASE,
     * named like the soname) is left out: the loader accepts a requirement that names it, but binds
     * no versioned symbol to it, so a native needing "libcublas.so.13" from a library whose symbols
     * are all in another version loads, and then aborts the process at its first call.
     */
    List<String> versionDefinitions() {
        return List.copyOf(versionDefinitions);
    }

    /** Whether the library has a .gnu.version_d at all (then every versioned requirement must match a definition). */
    boolean versioned() {
        return hasVersionDefinitions || !versionDefinitions.isEmpty();
    }

    /** Every dynamic symbol with its version. */
    List<Symbol> symbols() {
        return List.copyOf(symbols);
    }

    /** Names of the undefined symbols bound to {@code version} (a needed version's name). */
    Set<String> undefinedSymbols(String version) {
        Set<String> out = new TreeSet<>();
        for (Symbol s : symbols) {
            if (!s.defined() && version.equals(s.version())) {
                out.add(s.name());
            }
        }
        return out;
    }

    /** The file offset of .gnu.version, one Elf64_Half per dynamic symbol, or -1. */
    int versymOffset() {
        return versymOffset;
    }

    /** The raw .gnu.version entry of each dynamic symbol. */
    List<Integer> versymIndices() {
        return versymIndices;
    }
}
