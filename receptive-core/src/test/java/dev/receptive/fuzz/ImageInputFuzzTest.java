package dev.receptive.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.receptive.data.ImageInput;
import dev.receptive.data.Normalization;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Image decoding as predict does it, on any bytes: a (1, 28, 28) input of finite values, or an
 * IOException naming the file. Large images decode subsampled, so memory stays far below the
 * pixel limit's 64 M pixels whatever the header says. {@link #loadBytes} is the same from
 * memory (as Spark and servers read images), whose stream and BMP size check differ from a file's.
 */
class ImageInputFuzzTest {
    private static final ImageInput GRAY = ImageInput.builder().shape(1, 28, 28).normalize(Normalization.MNIST)
            .invert(ImageInput.Invert.AUTO).build();
    private static final Contract CONTRACT = new Contract(48 << 20, 64, IOException.class);
    private static final Contract BYTES = new Contract(48 << 20, 64, IOException.class).naming("upload 1");

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void load(byte[] input) throws Exception {
        Path file = Contract.file("in-image", input);
        check(CONTRACT.naming(file).check(input.length, () -> GRAY.load(file)));
    }

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void loadBytes(byte[] input) throws Exception {
        check(BYTES.check(input.length, () -> GRAY.load(input, "upload 1")));
    }

    private static void check(ImageInput.Loaded loaded) {
        if (loaded != null) {
            if (loaded.values().length != 784) {
                throw new AssertionError(loaded.values().length + " values");
            }
            for (float v : loaded.values()) {
                if (!Float.isFinite(v)) {
                    throw new AssertionError("value " + v);
                }
            }
        }
    }
}
