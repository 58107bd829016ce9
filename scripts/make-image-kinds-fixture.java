// Writes test-data/image-kinds/: one small image of each kind the image decoder must treat alike
// through every entry point (files, bytes, streams, image folders, Spark), in torchvision's
// ImageFolder layout with one subfolder per format.
//
//   java scripts/make-image-kinds-fixture.java        (from the repository root; JDK 17+)
//
// Every image is 8 wide and 4 high. Pixel (0, 0) of each is the one the tests compute by hand:
// see the comments below. PNG, GIF and BMP are lossless and written the same by every JDK; the
// JPEGs are whatever this JDK's encoder makes, committed so that the tests read fixed bytes.
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

public class MakeImageKindsFixture {
    private static final int W = 8;
    private static final int H = 4;

    public static void main(String[] args) throws IOException {
        Path out = Path.of("test-data", "image-kinds");

        // grey8: (0, 0) = 7, stored grey level taken as it is.
        BufferedImage grey8 = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_GRAY);
        fill(grey8, (x, y) -> new int[] {(x * 40 + y * 13 + 7) % 256});
        write(grey8, "png", out.resolve("png/grey8.png"));

        // grey16: (0, 0) = 4660 of 65535.
        BufferedImage grey16 = new BufferedImage(W, H, BufferedImage.TYPE_USHORT_GRAY);
        fill(grey16, (x, y) -> new int[] {(x * 9000 + y * 2500 + 4660) % 65536});
        write(grey16, "png", out.resolve("png/grey16.png"));

        // grey-alpha: (0, 0) = grey 60 at alpha 128.
        BufferedImage greyAlpha = component(ColorSpace.CS_GRAY, true, DataBuffer.TYPE_BYTE);
        fill(greyAlpha, (x, y) -> new int[] {x == 0 && y == 0 ? 60 : (x * 30 + y * 7) % 256, (x * 36 + y * 50 + 128) % 256});
        write(greyAlpha, "png", out.resolve("png/grey-alpha.png"));

        // rgb: (0, 0) = (200, 100, 50).
        BufferedImage rgb = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        fill(rgb, (x, y) -> x == 0 && y == 0 ? new int[] {200, 100, 50}
                : new int[] {x * 32 % 256, y * 60 % 256, (x * y * 11 + 5) % 256});
        write(rgb, "png", out.resolve("png/rgb.png"));

        // rgb16: (0, 0) = (1000, 30000, 65535) of 65535.
        BufferedImage rgb16 = component(ColorSpace.CS_sRGB, false, DataBuffer.TYPE_USHORT);
        fill(rgb16, (x, y) -> x == 0 && y == 0 ? new int[] {1000, 30000, 65535}
                : new int[] {x * 8000, y * 16000, (x + y) * 5000});
        write(rgb16, "png", out.resolve("png/rgb16.png"));

        // rgba: (0, 0) = (200, 100, 50) at alpha 128; (1, 0) fully transparent.
        BufferedImage rgba = new BufferedImage(W, H, BufferedImage.TYPE_INT_ARGB);
        fill(rgba, (x, y) -> x == 0 && y == 0 ? new int[] {200, 100, 50, 128}
                : new int[] {x * 32 % 256, y * 60 % 256, 90, x == 1 && y == 0 ? 0 : (x * 30 + y * 20 + 40) % 256});
        write(rgba, "png", out.resolve("png/rgba.png"));

        // palette: index 0 is transparent (so (0, 0) is white), 1 = (200, 100, 50), 2 half transparent.
        byte[] r = {10, (byte) 200, 0, 90};
        byte[] g = {20, 100, (byte) 128, 90};
        byte[] b = {30, 50, (byte) 255, 90};
        byte[] a = {0, (byte) 255, (byte) 128, (byte) 255};
        BufferedImage palette = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 4, r, g, b, a));
        fill(palette, (x, y) -> new int[] {(x + y) % 4});
        write(palette, "png", out.resolve("png/palette.png"));

        // GIF has one transparent index: 0, so (0, 0) is white.
        BufferedImage gif = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 4, r, g, b, 0));
        fill(gif, (x, y) -> new int[] {(x + y) % 4});
        write(gif, "gif", out.resolve("gif/palette.gif"));

        // bmp: (0, 0) = (200, 100, 50).
        write(rgb, "bmp", out.resolve("bmp/rgb.bmp"));

        // JPEG is lossy: (0, 0) is near (200, 100, 50) and grey 7 of the PNGs above.
        BufferedImage jpegRgb = new BufferedImage(W, H, BufferedImage.TYPE_3BYTE_BGR);
        fill(jpegRgb, (x, y) -> new int[] {200 - x * 4, 100 + y * 5, 50 + x * 3});
        write(jpegRgb, "jpeg", out.resolve("jpeg/rgb.jpg"));
        BufferedImage jpegGrey = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_GRAY);
        fill(jpegGrey, (x, y) -> new int[] {7 + x * 3 + y * 2});
        write(jpegGrey, "jpeg", out.resolve("jpeg/grey.jpg"));
    }

    interface Pixel {
        int[] at(int x, int y);
    }

    private static BufferedImage component(int space, boolean alpha, int type) {
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(space), alpha, false,
                alpha ? Transparency.TRANSLUCENT : Transparency.OPAQUE, type);
        return new BufferedImage(cm, cm.createCompatibleWritableRaster(W, H), false, null);
    }

    /** Sets raster samples in the colour model's band order (grey or R, G, B, then alpha). */
    private static void fill(BufferedImage image, Pixel p) {
        WritableRaster raster = image.getRaster();
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                int[] v = p.at(x, y);
                if (image.getType() == BufferedImage.TYPE_INT_RGB || image.getType() == BufferedImage.TYPE_INT_ARGB) {
                    int alpha = v.length == 4 ? v[3] : 255;
                    image.setRGB(x, y, alpha << 24 | v[0] << 16 | v[1] << 8 | v[2]);
                } else {
                    raster.setPixel(x, y, v);
                }
            }
        }
    }

    private static void write(BufferedImage image, String format, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        if (!ImageIO.write(image, format, file.toFile())) {
            throw new IOException("no " + format + " writer for " + file);
        }
    }
}
