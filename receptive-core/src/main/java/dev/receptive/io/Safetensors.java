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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
 */
public final class Safetensors {
    /** The reference implementation refuses larger headers too. */
    private static final long MAX_HEADER_BYTES = 100_000_000;
    /** The most read from the file at once (see {@link #readFully}). */
    private static final int CHUNK_BYTES = 1 << 20;
    private static final String METADATA = "__metadata__";
    private static final String F32 = "F32";
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    /**
     * What a file holds.
     *
     * @param tensors the tensors by name, in header order
     * @param metadata the "__metadata__" strings, empty when the file has none
     */
    public record Loaded(Map<String, TensorData> tensors, Map<String, String> metadata) {
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
     * @param metadata free-form strings stored under "__metadata__"; omitted when empty
     * @throws IOException when the file cannot be written; the previous file is then intact
     */
    public static void write(Path file, Map<String, TensorData> tensors, Map<String, String> metadata)
            throws IOException {
        byte[] header = header(tensors, metadata);
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
            if (e.getKey().equals(METADATA)) {
                throw new IllegalArgumentException("Safetensors.write: a tensor cannot be named " + METADATA);
            }
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
     * Reads and validates a whole file.
     *
     * @param file the file to read
     * @return its tensors and metadata
     * @throws IOException naming the file and the problem: a header length past the end of the
     *     file, a header that is not UTF-8 JSON of the expected form, a dtype other than F32, a
     *     shape that disagrees with its offsets, offsets that overlap, leave gaps or run past the
     *     data, a truncated file
     */
    public static Loaded read(Path file) throws IOException {
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

            Map<String, TensorData> tensors = new LinkedHashMap<>();
            ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(4, size - dataStart)))
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : entries) {
                float[] values = new float[(int) ((e.end() - e.begin()) / 4)];
                for (int done = 0; done < values.length; ) {
                    int n = Math.min(values.length - done, chunk.capacity() / 4);
                    chunk.clear().limit(4 * n);
                    readFully(file, channel, dataStart + e.begin() + 4L * done, chunk);
                    chunk.flip().asFloatBuffer().get(values, done, n);
                    done += n;
                }
                tensors.put(e.name(), new TensorData(e.shape(), values));
            }
            return new Loaded(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
        }
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
            metadata.put(key, reader.nextString());
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
