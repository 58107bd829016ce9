package dev.receptive.data;

import dev.receptive.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A random change to a training image, applied when a batch is filled: torchvision's
 * {@code RandomCrop(size, padding)} and {@code RandomHorizontalFlip()}. The random numbers of
 * each image come from (seed, epoch, position in the epoch) alone, so an epoch's augmented
 * batches are the same whatever thread fills them and after a resume.
 *
 * <p>Implementations are stateless and safe to share between threads.
 */
public interface Augmentation {

    /**
     * Changes one image in place: {@code image[offset, offset + item.size())} holds (C, H, W).
     *
     * @param image the batch buffer holding the image
     * @param offset the index of the image's first value in {@code image}
     * @param item the image's shape (C, H, W)
     * @param padValue the normalized value of a black pixel, for what is shifted in from outside
     * @param random this image's own draws, seeded from (seed, epoch, position)
     */
    void apply(float[] image, int offset, Shape item, float padValue, SplittableRandom random);

    /** {@return what it does and its settings, e.g. "crop(4)+flip": recorded with the training settings} */
    String describe();

    /**
     * Pads the image by {@code padding} black pixels on every side and crops a window of the
     * original size at a random place: a shift of up to {@code padding} pixels in each direction.
     *
     * @param padding the largest shift in pixels, ≥ 1 (4 for 32 × 32 CIFAR images, as usual)
     * @return the augmentation, described as "crop(padding)"
     * @throws IllegalArgumentException when padding &lt; 1
     */
    static Augmentation randomCrop(int padding) {
        if (padding < 1) {
            throw new IllegalArgumentException("Augmentation.randomCrop: padding must be >= 1, got " + padding);
        }
        return new Augmentation() {
            @Override
            public void apply(float[] image, int offset, Shape item, float padValue, SplittableRandom random) {
                int dy = random.nextInt(2 * padding + 1) - padding;
                int dx = random.nextInt(2 * padding + 1) - padding;
                if (dy == 0 && dx == 0) {
                    return;
                }
                int c = item.dim(0);
                int h = item.dim(1);
                int w = item.dim(2);
                float[] plane = new float[h * w];
                for (int ch = 0; ch < c; ch++) {
                    int base = offset + ch * h * w;
                    System.arraycopy(image, base, plane, 0, h * w);
                    // out[y][x] = in[y + dy][x + dx], black outside.
                    for (int y = 0; y < h; y++) {
                        int sy = y + dy;
                        for (int x = 0; x < w; x++) {
                            int sx = x + dx;
                            image[base + y * w + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? plane[sy * w + sx] : padValue;
                        }
                    }
                }
            }

            @Override
            public String describe() {
                return "crop(" + padding + ")";
            }
        };
    }

    /** {@return an augmentation that mirrors the image left to right with probability 1/2} */
    static Augmentation horizontalFlip() {
        return new Augmentation() {
            @Override
            public void apply(float[] image, int offset, Shape item, float padValue, SplittableRandom random) {
                if (!random.nextBoolean()) {
                    return;
                }
                int rows = item.dim(0) * item.dim(1);
                int w = item.dim(2);
                for (int r = 0; r < rows; r++) {
                    int base = offset + r * w;
                    for (int x = 0; x < w / 2; x++) {
                        float t = image[base + x];
                        image[base + x] = image[base + w - 1 - x];
                        image[base + w - 1 - x] = t;
                    }
                }
            }

            @Override
            public String describe() {
                return "flip";
            }
        };
    }

    /**
     * These augmentations one after the other, each with its own draws.
     *
     * @param steps at least one augmentation, applied in order
     * @return the composition, described as the steps' descriptions joined by "+"
     * @throws IllegalArgumentException when no step is given
     */
    static Augmentation compose(Augmentation... steps) {
        List<Augmentation> all = List.of(steps);
        if (all.isEmpty()) {
            throw new IllegalArgumentException("Augmentation.compose: give at least one augmentation");
        }
        return new Augmentation() {
            @Override
            public void apply(float[] image, int offset, Shape item, float padValue, SplittableRandom random) {
                for (Augmentation a : all) {
                    a.apply(image, offset, item, padValue, random);
                }
            }

            @Override
            public String describe() {
                List<String> names = new ArrayList<>();
                all.forEach(a -> names.add(a.describe()));
                return String.join("+", names).toLowerCase(Locale.ROOT);
            }
        };
    }
}
