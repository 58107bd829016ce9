package dev.receptive.data;

/** Which half of an MNIST-style dataset to load; the prefix is the one its file names use. */
public enum Split {
    TRAIN("train"),
    TEST("t10k");

    private final String filePrefix;

    Split(String filePrefix) {
        this.filePrefix = filePrefix;
    }

    /** "train" or "t10k", as in train-images-idx3-ubyte. */
    public String filePrefix() {
        return filePrefix;
    }
}
