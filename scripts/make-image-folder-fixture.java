// Writes test-data/image-folder/: a tiny image-folder dataset (one subfolder per class of PNG files,
// torchvision's ImageFolder layout) cut from the committed Fashion-MNIST fixture, for the tests of
// image-folder training, evaluation and prediction.
//
//   java scripts/make-image-folder-fixture.java        (from the repository root; JDK 17+)
//
// The first 12 test images of each of three classes, as 8-bit grayscale 28x28 PNG files named
// after their index in the fixture. The output is byte-identical from run to run.
import java.awt.image.BufferedImage;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import javax.imageio.ImageIO;

public class MakeImageFolderFixture {
    private static final int[] CLASSES = {1, 7, 8}; // Trouser, Sneaker, Bag
    private static final String[] NAMES = {"trouser", "sneaker", "bag"};
    private static final int PER_CLASS = 12;

    public static void main(String[] args) throws IOException {
        Path src = Path.of("test-data", "fashion-mnist-1k");
        byte[] images = read(src.resolve("t10k-images-idx3-ubyte.gz"), 16);
        byte[] labels = read(src.resolve("t10k-labels-idx1-ubyte.gz"), 8);
        Path out = Path.of("test-data", "image-folder");
        for (int k = 0; k < CLASSES.length; k++) {
            Path dir = Files.createDirectories(out.resolve(NAMES[k]));
            int written = 0;
            for (int i = 0; i < labels.length && written < PER_CLASS; i++) {
                if (labels[i] != CLASSES[k]) {
                    continue;
                }
                BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
                img.getRaster().setDataElements(0, 0, 28, 28, java.util.Arrays.copyOfRange(images, i * 784, (i + 1) * 784));
                ImageIO.write(img, "png", dir.resolve(String.format("%04d.png", i)).toFile());
                written++;
            }
        }
        System.out.println("wrote " + CLASSES.length * PER_CLASS + " images to " + out);
    }

    /** The bytes after the IDX header of a gzipped IDX file. */
    private static byte[] read(Path file, int header) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            byte[] all = in.readAllBytes();
            return java.util.Arrays.copyOfRange(all, header, all.length);
        }
    }
}
