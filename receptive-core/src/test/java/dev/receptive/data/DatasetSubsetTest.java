package dev.receptive.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.receptive.tensor.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * subset and randomSplit on a dataset whose item i is recognisable: every pixel of image i holds
 * i + 0.5 and its label is i mod 3, so each copied item can be traced back to its source.
 */
class DatasetSubsetTest {
    private static final Shape ITEM = Shape.of(1, 2, 3);
    private static final List<String> CLASSES = List.of("a", "b", "c");

    private static Dataset numbered(int n) {
        float[] images = new float[n * ITEM.size()];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            Arrays.fill(images, i * ITEM.size(), (i + 1) * ITEM.size(), i + 0.5f);
            labels[i] = i % 3;
        }
        return new Dataset(images, labels, ITEM, CLASSES);
    }

    /** The source index of every item: its first pixel minus 0.5, after checking the whole image and the label. */
    private static int[] sources(Dataset d) {
        int[] out = new int[d.size()];
        float[] image = new float[ITEM.size()];
        for (int i = 0; i < d.size(); i++) {
            d.copyImage(i, image, 0);
            int source = (int) (image[0] - 0.5f);
            float[] expected = new float[ITEM.size()];
            Arrays.fill(expected, source + 0.5f);
            assertArrayEquals(expected, image, "item " + i);
            assertEquals(source % 3, d.label(i), "label of item " + i);
            out[i] = source;
        }
        return out;
    }

    @Test
    void subsetCopiesTheItemsInTheGivenOrder() {
        Dataset data = numbered(10);
        Dataset s = data.subset(new int[] {7, 2, 7, 0});
        assertArrayEquals(new int[] {7, 2, 7, 0}, sources(s));
        assertEquals(ITEM, s.itemShape());
        assertEquals(CLASSES, s.classNames());
        assertArrayEquals(new int[] {3, 4, 5}, sources(data.subset(3, 6)));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, sources(data.subset(0, 10)));
    }

    @Test
    void subsetRefusesIndicesOutsideTheDataset() {
        Dataset data = numbered(5);
        assertEquals("Dataset.subset: index 1 is 5, outside [0, 5)", assertThrows(IllegalArgumentException.class,
                () -> data.subset(new int[] {0, 5})).getMessage());
        assertEquals("Dataset.subset: index 0 is -1, outside [0, 5)", assertThrows(IllegalArgumentException.class,
                () -> data.subset(new int[] {-1})).getMessage());
        assertThrows(IllegalArgumentException.class, () -> data.subset(new int[0]));
        assertEquals("Dataset.subset: range [2, 6) is empty or outside [0, 5)", assertThrows(
                IllegalArgumentException.class, () -> data.subset(2, 6)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> data.subset(3, 3));
        assertThrows(IllegalArgumentException.class, () -> data.subset(-1, 2));
    }

    @Test
    void randomSplitPartitionsEveryItemExactlyOnce() {
        Dataset data = numbered(50);
        List<Dataset> parts = data.randomSplit(11, 35, 10, 5);
        assertEquals(List.of(35, 10, 5), parts.stream().map(Dataset::size).toList());
        List<Integer> all = new ArrayList<>();
        for (Dataset p : parts) {
            Arrays.stream(sources(p)).forEach(all::add);
        }
        all.sort(null);
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            expected.add(i);
        }
        assertEquals(expected, all);
        assertNotEquals(expected.subList(0, 35), Arrays.stream(sources(parts.get(0))).boxed().toList(), "shuffled");
    }

    @Test
    void randomSplitDependsOnlyOnTheSeed() {
        Dataset data = numbered(20);
        assertArrayEquals(sources(data.randomSplit(3, 15, 5).get(1)), sources(data.randomSplit(3, 15, 5).get(1)));
        assertNotEquals(Arrays.toString(sources(data.randomSplit(3, 15, 5).get(1))),
                Arrays.toString(sources(data.randomSplit(4, 15, 5).get(1))));
        // Pinned: a split must not change between versions, or a validation set would leak into training.
        assertArrayEquals(new int[] {12, 10, 6, 18, 17}, sources(data.randomSplit(3, 15, 5).get(1)));
    }

    @Test
    void randomSplitRefusesSizesThatDoNotAddUp() {
        Dataset data = numbered(10);
        assertEquals("Dataset.randomSplit: sizes [6, 5] add up to 11, but the dataset has 10 items",
                assertThrows(IllegalArgumentException.class, () -> data.randomSplit(1, 6, 5)).getMessage());
        assertEquals("Dataset.randomSplit: sizes must be >= 1, got [10, 0]",
                assertThrows(IllegalArgumentException.class, () -> data.randomSplit(1, 10, 0)).getMessage());
    }

    @Test
    void subsetsKeepTheNormalization() {
        Dataset data = new Dataset(new float[2 * 6], new int[2], ITEM, CLASSES, Normalization.FASHION_MNIST);
        assertEquals(Normalization.FASHION_MNIST, data.subset(0, 1).normalization());
        assertEquals(Normalization.FASHION_MNIST, data.randomSplit(3, 1, 1).get(1).normalization());
        assertEquals(null, numbered(2).subset(0, 1).normalization());
    }
}
