package dev.receptive.data;

import dev.receptive.tensor.Shape;
import java.nio.file.Path;

/**
 * Scans and loads an image folder in a JVM of its own, started by {@link ImageFolderNamesTest}
 * under a given locale: prints "CLASSES IMAGES SUM" (the sum of every loaded value, in the
 * folder's [0, 1] scale), or the error's message.
 */
public final class NamesChild {
    private NamesChild() {
    }

    public static void main(String[] args) {
        try {
            ImageFolder folder = ImageFolder.scan(Path.of(args[0]));
            Dataset d = folder.load(Shape.of(1, 4, 4), Normalization.UNIT_RANGE);
            float[] x = new float[d.size() * 16];
            for (int i = 0; i < d.size(); i++) {
                d.copyImage(i, x, i * 16);
            }
            double sum = 0;
            for (float v : x) {
                sum += v;
            }
            System.out.println(folder.classNames().size() + " " + folder.size() + " " + Math.round(sum * 255));
        } catch (Exception e) {
            System.out.println("error: " + e.getMessage());
        }
    }
}
