package dev.receptive.data;

/** Which half of an MNIST-style dataset to load; the prefix is the one its file names use. */
public enum Split {
    /** The training images: train-images-idx3-ubyte, train-labels-idx1-ubyte. */
    TRAIN("train"),
    /** The test images: t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte. */
    TEST("t10k");

    private final String filePrefix;

    Split(String filePrefix) {
        this.filePrefix = filePrefix;
    }

    /**
     * The prefix of this split's file names.
     *
     * @return "train" or "t10k", as in train-images-idx3-ubyte
     */
    public String filePrefix() {
        return filePrefix;
    }
}
