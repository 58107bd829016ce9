package dev.receptive.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DataFolderTest {
    @Test
    void propertyThenEnvironmentThenHomeCache() {
        assertEquals(Path.of("/p"), DataFolder.resolve("/p", "/e", "/home/u"));
        assertEquals(Path.of("/e"), DataFolder.resolve(null, "/e", "/home/u"));
        assertEquals(Path.of("/e"), DataFolder.resolve(" ", "/e", "/home/u"));
        assertEquals(Path.of("/home/u/.cache/receptive/datasets"), DataFolder.resolve(null, null, "/home/u"));
        assertEquals(Path.of("/home/u/.cache/receptive/datasets"), DataFolder.resolve(null, "", "/home/u"));
    }

    @Test
    void datasetSubfolders() {
        String old = System.getProperty(DataFolder.PROPERTY);
        System.setProperty(DataFolder.PROPERTY, "/data/sets");
        try {
            assertEquals(Path.of("/data/sets/mnist"), DataFolder.mnist());
            assertEquals(Path.of("/data/sets/fashion-mnist"), DataFolder.fashionMnist());
        } finally {
            if (old == null) {
                System.clearProperty(DataFolder.PROPERTY);
            } else {
                System.setProperty(DataFolder.PROPERTY, old);
            }
        }
    }
}
