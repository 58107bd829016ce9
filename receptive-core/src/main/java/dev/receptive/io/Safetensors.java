package dev.receptive.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.MalformedJsonException;
import dev.receptive.io.internal.AtomicFiles;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The safetensors format (https://github.com/huggingface/safetensors), float32 tensors only:
 * <pre>
 *   8 bytes   N, unsigned little-endian
 *   N bytes   UTF-8 JSON: {"__metadata__": {string: string}, "name": {"dtype": "F32",
 *             "shape": [...], "data_offsets": [begin, end]}, ...}, padded with spaces to a
 *             multiple of 8 bytes
 *   the rest  the tensors' little-endian bytes; offsets count from the start of this section,
 *             and the tensors tile it with no gap and no overlap
 * </pre>
 * Files written here load in PyTorch's safetensors and back, tensors in the order given.
 *
 * <p>Every file written here carries checksums in its metadata, under {@value #CHECKSUMS}: a
 * JSON object (as a string, since safetensors metadata is string to string) giving each tensor's
 * CRC32C of its little-endian bytes and, under {@value #METADATA}, the CRC32C of the other
 * metadata entries (sorted by key; each key and value as a 4-byte big-endian UTF-8 length and the
 * bytes). Every read verifies them and names the file and the tensor or entry that differs. A
 * file without the entry (written by another tool, or by Receptive before checksums) is read
 * as it is; {@link Loaded#checksummed()} says which it was.
 */
public final class Safetensors {
    /** The reference implementation refuses larger headers too. */
    private static final long MAX_HEADER_BYTES = 100_000_000;
    /** The most read from the file at once (see {@link #readFully}). */
    private static final int CHUNK_BYTES = 1 << 20;
    private static final String METADATA = "__metadata__";
    private static final String F32 = "F32";
    /** The metadata entry holding the checksums; see the class comment. */
    public static final String CHECKSUMS = "receptive.crc32c";
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    /**
     * What a file holds.
     *
     * @param tensors the tensors by name, in header order
     * @param metadata the "__metadata__" strings, empty when the file has none; without the
     *     {@value #CHECKSUMS} entry, which the read has verified
     * @param checksummed whether the file carried checksums (all of which matched); false for
     *     a file written by another tool or by Receptive before checksums
     */
    public record Loaded(Map<String, TensorData> tensors, Map<String, String> metadata, boolean checksummed) {
    }

    private record Entry(String name, int[] shape, long begin, long end) {
    }

    private Safetensors() {
    }

    /**
     * Writes the tensors, in the map's iteration order, atomically (see {@link AtomicFiles}).
     *
     * @param file the file to write or replace
     * @param tensors F32 tensors by name; no name may be "__metadata__"
     * @param metadata free-form strings stored under "__metadata__", beside the checksums
     *     ({@value #CHECKSUMS}, a key the caller may not use)
     * @throws IllegalArgumentException when a tensor is named "__metadata__" or a metadata key is {@value #CHECKSUMS}
     * @throws IOException when the file cannot be written; the previous file is then intact
     */
    public static void write(Path file, Map<String, TensorData> tensors, Map<String, String> metadata)
            throws IOException {
        if (metadata.containsKey(CHECKSUMS)) {
            throw new IllegalArgumentException("Safetensors.write: metadata key " + CHECKSUMS + " is reserved for the"
                    + " checksums this writer adds");
        }
        Map<String, String> withSums = new LinkedHashMap<>(metadata);
        withSums.put(CHECKSUMS, checksums(tensors, metadata));
        byte[] header = header(tensors, withSums);
        AtomicFiles.write(file, out -> {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            out.write(length.array());
            out.write(header);
            ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (TensorData t : tensors.values()) {
                writeFloats(out, t.data(), chunk);
            }
        });
    }

    /** The {@value #CHECKSUMS} entry: each tensor's CRC32C, and the metadata's under "__metadata__". */
    private static String checksums(Map<String, TensorData> tensors, Map<String, String> metadata) {
        JsonObject sums = new JsonObject();
        sums.addProperty(METADATA, hex(metadataCrc(metadata)));
        ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (Map.Entry<String, TensorData> e : tensors.entrySet()) {
            if (e.getKey().equals(METADATA)) {
                throw new IllegalArgumentException("Safetensors.write: a tensor cannot be named " + METADATA);
            }
            CRC32C crc = new CRC32C();
            for (float v : e.getValue().data()) {
                if (!chunk.hasRemaining()) {
                    crc.update(chunk.array(), 0, chunk.position());
                    chunk.clear();
                }
                chunk.putFloat(v);
            }
            crc.update(chunk.array(), 0, chunk.position());
            chunk.clear();
            sums.addProperty(e.getKey(), hex(crc.getValue()));
        }
        return GSON.toJson(sums);
    }

    /**
     * CRC32C of the metadata entries other than the checksums, sorted by key (so a writer that
     * reorders them, as a hash map does, keeps the sum), each key and value length-prefixed.
     */
    private static long metadataCrc(Map<String, String> metadata) {
        CRC32C crc = new CRC32C();
        ByteBuffer length = ByteBuffer.allocate(4);
        for (String key : new TreeMap<>(metadata).keySet()) {
            if (key.equals(CHECKSUMS)) {
                continue;
            }
            for (String part : new String[] {key, metadata.get(key)}) {
                byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
                crc.update(length.clear().putInt(bytes.length).array());
                crc.update(bytes);
            }
        }
        return crc.getValue();
    }

    private static String hex(long crc) {
        return String.format(Locale.ROOT, "%08x", crc);
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes as the reference writer does. */
    private static byte[] header(Map<String, TensorData> tensors, Map<String, String> metadata) {
        JsonObject header = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add(METADATA, meta);
        }
        long offset = 0;
        for (Map.Entry<String, TensorData> e : tensors.entrySet()) {
            TensorData t = e.getValue();
            JsonObject info = new JsonObject();
            info.addProperty("dtype", F32);
            JsonArray shape = new JsonArray();
            Arrays.stream(t.shape()).forEach(shape::add);
            info.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offset += 4L * t.data().length;
            offsets.add(offset);
            info.add("data_offsets", offsets);
            header.add(e.getKey(), info);
        }
        byte[] json = GSON.toJson(header).getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(json, (json.length + 7) / 8 * 8);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        return padded;
    }

    private static void writeFloats(OutputStream out, float[] data, ByteBuffer chunk) throws IOException {
        for (float v : data) {
            if (!chunk.hasRemaining()) {
                out.write(chunk.array(), 0, chunk.position());
                chunk.clear();
            }
            chunk.putFloat(v);
        }
        out.write(chunk.array(), 0, chunk.position());
        chunk.clear();
    }

    /**
     * Reads and validates a whole file, and verifies its checksums when it has them.
     *
     * @param file the file to read
     * @return its tensors and metadata
     * @throws IOException naming the file and the problem: a header length past the end of the
     *     file, a header that is not UTF-8 JSON of the expected form, a dtype other than F32, a
     *     shape that disagrees with its offsets, offsets that overlap, leave gaps or run past the
     *     data, a truncated file, a checksum entry that is malformed or does not list exactly the
     *     file's tensors, or a tensor or the metadata that does not match its checksum (naming it)
     */
    public static Loaded read(Path file) throws IOException {
        return scan(file, true);
    }

    /**
     * Checks a whole file as {@link #read} does, without keeping its tensors: it reads the file
     * once, a chunk at a time, so memory stays small whatever the file's size. For confirming
     * that a file just written is on disk as it was meant to be.
     *
     * @param file the file to check
     * @return whether it carries checksums (which then all matched); false for a file without them
     * @throws IOException naming the file and the problem, as {@link #read}
     */
    public static boolean verify(Path file) throws IOException {
        return scan(file, false).checksummed();
    }

    /** Reads the header, checks the layout and the checksums, and keeps the tensors when asked. */
    private static Loaded scan(Path file, boolean keep) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw error(file, "file has " + size + " bytes, too few for the 8-byte header length");
            }
            long headerLength = readAt(file, channel, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            // Unsigned: a length with the top bit set reads as negative and is far too large anyway.
            if (headerLength < 0 || headerLength > size - 8) {
                throw error(file, "header length " + Long.toUnsignedString(headerLength) + " is larger than the "
                        + (size - 8) + " bytes that follow it (file truncated or not safetensors)");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw error(file, "header length " + headerLength + " exceeds the limit of " + MAX_HEADER_BYTES);
            }
            String json = decodeUtf8(file, readAt(file, channel, 8, (int) headerLength));
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = parseHeader(file, json, metadata);
            long dataStart = 8 + headerLength;
            checkLayout(file, entries, size - dataStart);
            Map<String, Long> sums = storedChecksums(file, metadata, entries);

            Map<String, TensorData> tensors = new LinkedHashMap<>();
            ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(4, size - dataStart)))
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : entries) {
                int count = (int) ((e.end() - e.begin()) / 4);
                float[] values = keep ? new float[count] : null;
                CRC32C crc = new CRC32C();
                for (int done = 0; done < count; ) {
                    int n = Math.min(count - done, chunk.capacity() / 4);
                    chunk.clear().limit(4 * n);
                    readFully(file, channel, dataStart + e.begin() + 4L * done, chunk);
                    crc.update(chunk.array(), 0, 4 * n);
                    if (keep) {
                        chunk.flip().asFloatBuffer().get(values, done, n);
                    }
                    done += n;
                }
                if (sums != null && crc.getValue() != sums.get(e.name())) {
                    throw error(file, "tensor '" + e.name() + "' does not match its checksum (CRC32C " + hex(crc.getValue())
                            + ", recorded " + hex(sums.get(e.name())) + "): the file is damaged");
                }
                if (keep) {
                    tensors.put(e.name(), new TensorData(e.shape(), values));
                }
            }
            metadata.remove(CHECKSUMS);
            return new Loaded(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata), sums != null);
        }
    }

    /**
     * The tensors' recorded CRC32Cs by name, after checking that they name exactly the file's
     * tensors and that the metadata matches its own; null when the file has no checksums.
     */
    private static Map<String, Long> storedChecksums(Path file, Map<String, String> metadata, List<Entry> entries)
            throws IOException {
        String json = metadata.get(CHECKSUMS);
        if (json == null) {
            return null;
        }
        Map<String, Long> sums = new HashMap<>();
        JsonReader reader = new JsonReader(new StringReader(json));
        reader.setStrictness(Strictness.STRICT);
        try {
            reader.beginObject();
            while (reader.hasNext()) {
                String name = reader.nextName();
                String value = reader.peek() == JsonToken.STRING ? reader.nextString() : "";
                if (!value.matches("[0-9a-f]{8}")) {
                    throw error(file, "metadata " + CHECKSUMS + " gives '" + name + "' a checksum that is not 8 hex"
                            + " digits: the header is damaged");
                }
                if (sums.put(name, Long.parseLong(value, 16)) != null) {
                    throw error(file, "metadata " + CHECKSUMS + " names '" + name + "' twice: the header is damaged");
                }
            }
            reader.endObject();
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw error(file, "metadata " + CHECKSUMS + " has text after its JSON object: the header is damaged");
            }
        } catch (MalformedJsonException | EOFException | IllegalStateException e) {
            throw error(file, "metadata " + CHECKSUMS + " is not a JSON object of checksums (" + jsonProblem(e)
                    + "): the header is damaged");
        }
        Long meta = sums.remove(METADATA);
        if (meta == null) {
            throw error(file, "metadata " + CHECKSUMS + " lacks the metadata's own checksum: the header is damaged");
        }
        long actual = metadataCrc(metadata);
        if (actual != meta) {
            throw error(file, "the metadata does not match its checksum (CRC32C " + hex(actual) + ", recorded "
                    + hex(meta) + "): the header is damaged, or was edited without removing " + CHECKSUMS);
        }
        Set<String> names = new HashSet<>();
        for (Entry e : entries) {
            names.add(e.name());
            if (!sums.containsKey(e.name())) {
                throw error(file, "tensor '" + e.name() + "' has no checksum in " + CHECKSUMS + ": the header is"
                        + " damaged, or the tensor was added or renamed without removing " + CHECKSUMS);
            }
        }
        for (String name : sums.keySet()) {
            if (!names.contains(name)) {
                throw error(file, "metadata " + CHECKSUMS + " records tensor '" + name + "', which the file does not"
                        + " hold: the header is damaged, or the tensor was removed or renamed");
            }
        }
        return sums;
    }

    private static List<Entry> parseHeader(Path file, String json, Map<String, String> metadata) throws IOException {
        JsonReader reader = new JsonReader(new StringReader(json));
        reader.setStrictness(Strictness.STRICT);
        List<Entry> entries = new ArrayList<>();
        Set<String> names = new HashSet<>();
        try {
            reader.beginObject();
            while (reader.hasNext()) {
                String name = reader.nextName();
                if (!names.add(name)) {
                    throw error(file, "header names '" + name + "' twice");
                }
                if (name.equals(METADATA)) {
                    readMetadata(file, reader, metadata);
                } else {
                    entries.add(readEntry(file, reader, name));
                }
            }
            reader.endObject();
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw error(file, "header has text after its JSON object");
            }
        } catch (MalformedJsonException | EOFException | IllegalStateException | NumberFormatException e) {
            throw error(file, "header is not valid JSON of the safetensors form: " + jsonProblem(e));
        }
        return entries;
    }

    /** Gson's message without its advice lines, which speak of Gson's API rather than the file. */
    private static String jsonProblem(Exception e) {
        String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
        return first.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
    }

    private static void readMetadata(Path file, JsonReader reader, Map<String, String> metadata) throws IOException {
        reader.beginObject();
        while (reader.hasNext()) {
            String key = reader.nextName();
            if (reader.peek() != JsonToken.STRING) {
                throw error(file, "metadata value of '" + key + "' is " + reader.peek() + ", not a string");
            }
            if (metadata.put(key, reader.nextString()) != null) {
                // JSON readers disagree on which of two values wins; this one refuses to guess.
                throw error(file, "metadata names '" + key + "' twice");
            }
        }
        reader.endObject();
    }

    private static Entry readEntry(Path file, JsonReader reader, String name) throws IOException {
        String dtype = null;
        int[] shape = null;
        long[] offsets = null;
        reader.beginObject();
        while (reader.hasNext()) {
            String key = reader.nextName();
            switch (key) {
                case "dtype" -> dtype = reader.nextString();
                case "shape" -> shape = toDims(file, name, readNumbers(file, reader, name, key));
                case "data_offsets" -> offsets = readNumbers(file, reader, name, key);
                default -> throw error(file, "tensor '" + name + "' has an unknown field '" + key + "'");
            }
        }
        reader.endObject();
        if (dtype == null || shape == null || offsets == null) {
            throw error(file, "tensor '" + name + "' lacks " + (dtype == null ? "dtype" : shape == null ? "shape" : "data_offsets"));
        }
        if (!dtype.equals(F32)) {
            throw error(file, "tensor '" + name + "' has dtype " + dtype + "; only F32 is supported");
        }
        if (offsets.length != 2) {
            throw error(file, "tensor '" + name + "' has " + offsets.length + " data_offsets, expected [begin, end]");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw error(file, "tensor '" + name + "' has data_offsets [" + begin + ", " + end + "] with end before begin");
        }
        long count = TensorData.elementCount(shape);
        if (count > Integer.MAX_VALUE - 8) {
            throw error(file, "tensor '" + name + "' of shape " + Arrays.toString(shape) + " is too large for one array");
        }
        if (end - begin != 4 * count) {
            throw error(file, "tensor '" + name + "' of shape " + Arrays.toString(shape) + " needs " + 4 * count
                    + " bytes but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        return new Entry(name, shape, begin, end);
    }

    /** An array of non-negative integers. */
    private static long[] readNumbers(Path file, JsonReader reader, String name, String key) throws IOException {
        List<Long> values = new ArrayList<>();
        reader.beginArray();
        while (reader.hasNext()) {
            if (reader.peek() != JsonToken.NUMBER) {
                throw error(file, "tensor '" + name + "' " + key + " holds " + reader.peek() + ", not a number");
            }
            long v = reader.nextLong();
            if (v < 0) {
                throw error(file, "tensor '" + name + "' " + key + " holds the negative value " + v);
            }
            values.add(v);
        }
        reader.endArray();
        return values.stream().mapToLong(Long::longValue).toArray();
    }

    private static int[] toDims(Path file, String name, long[] values) throws IOException {
        int[] dims = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            if (values[i] > Integer.MAX_VALUE) {
                throw error(file, "tensor '" + name + "' has dimension " + values[i] + ", larger than 2^31 - 1");
            }
            dims[i] = (int) values[i];
        }
        return dims;
    }

    /** The tensors must tile [0, dataBytes) exactly: no gap, no overlap, nothing past the end. */
    private static void checkLayout(Path file, List<Entry> entries, long dataBytes) throws IOException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin() != expected) {
                throw error(file, e.begin() > expected
                        ? "gap in the data: tensor '" + e.name() + "' begins at " + e.begin() + " but the data before it ends at " + expected
                        : "tensors '" + previous.name() + "' and '" + e.name() + "' overlap at data bytes [" + e.begin() + ", " + expected + ")");
            }
            expected = e.end();
            previous = e;
        }
        if (expected > dataBytes) {
            throw error(file, "truncated: the header declares " + expected + " data bytes but the file holds " + dataBytes);
        }
        if (expected < dataBytes) {
            throw error(file, (dataBytes - expected) + " unexpected bytes after the last tensor (header declares "
                    + expected + " data bytes, file holds " + dataBytes + ")");
        }
    }

    private static String decodeUtf8(Path file, ByteBuffer bytes) throws IOException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw error(file, "header is not valid UTF-8 (" + e.getMessage() + ")");
        }
    }

    /** {@code length} bytes at {@code position}, read a chunk at a time (see {@link #readFully}). */
    private static ByteBuffer readAt(Path file, FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        for (int done = 0; done < length; ) {
            int n = (int) Math.min(length - done, CHUNK_BYTES);
            readFully(file, channel, position + done, buffer.slice(done, n));
            done += n;
        }
        return buffer;
    }

    /**
     * Fills {@code buffer} from {@code position}. Kept at most {@link #CHUNK_BYTES} long by the
     * callers: a channel read into a heap buffer goes through a temporary direct buffer of the
     * same size that the JDK caches per thread.
     */
    private static void readFully(Path file, FileChannel channel, long position, ByteBuffer buffer) throws IOException {
        int start = buffer.position();
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position() - start) < 0) {
                throw error(file, "file ended at byte " + (position + buffer.position() - start) + " while reading "
                        + (buffer.limit() - start) + " bytes at " + position);
            }
        }
    }

    private static IOException error(Path file, String problem) {
        return new IOException(file + ": " + problem);
    }
}
