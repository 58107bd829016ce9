package dev.receptive.onnx;

/**
 * An ONNX file that is malformed or asks for what Receptive cannot express, raised deep in the
 * reader and turned into the {@link java.io.IOException} of {@link OnnxFile#read} at its surface.
 * The message names the file and the node, tensor or attribute.
 */
final class OnnxFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    OnnxFormatException(String message) {
        super(message);
    }

    OnnxFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
