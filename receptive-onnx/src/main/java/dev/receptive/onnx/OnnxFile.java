package dev.receptive.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.receptive.io.ModelFile;
import dev.receptive.io.internal.AtomicFiles;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.onnx.proto.Onnx.ModelProto;
import dev.receptive.onnx.proto.Onnx.OperatorSetIdProto;
import dev.receptive.onnx.proto.Onnx.StringStringEntryProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Receptive models as ONNX files, the exchange format of ONNX Runtime, TensorRT, Triton and
 * PyTorch's exporter.
 *
 * <p>{@link #write} exports any model of the built-in layers (chains and graphs) as an ONNX graph
 * of opset 17: parameters and buffers as initializers under their state-dict names, the input as
 * "input" of shape (N, item...), and the normalization and class names as the metadata properties
 * {@value ModelFile#NORMALIZATION} and {@value ModelFile#CLASSES}, as in a model file. Layers of
 * other types (registered custom layers) are refused by name.
 *
 * <p>{@link #read} imports ONNX files of CNNs as PyTorch's exporter writes them (opsets 13 to 22)
 * into a Receptive graph with its weights, ready to place on any backend, to predict with or to
 * fine-tune: Conv, BatchNormalization, Relu, Sigmoid, Tanh, MaxPool, AveragePool,
 * GlobalAveragePool, Gemm, MatMul followed by Add, Flatten, Reshape to flat items, Add, Concat,
 * Softmax, Dropout, Identity, zero Pad before a Conv or AveragePool, and the shape computations
 * (Shape, Gather, Unsqueeze, Concat, Constant) an exporter writes for a Reshape. Anything else is
 * refused before a model is made, with the op types and node names, or the attribute, that
 * Receptive cannot express. docs/model-format.md, "ONNX", has the whole mapping.
 *
 * <p>Thread-safe: the methods share no state.
 */
public final class OnnxFile {
    /** The file name extension of ONNX models. */
    public static final String EXTENSION = ".onnx";
    /** Metadata key (in {@link ModelFile.Contents#metadata()} of {@link #read}) of the producer's name and version. */
    public static final String PRODUCER = "onnx.producer";
    /** Metadata key (in {@link ModelFile.Contents#metadata()} of {@link #read}) of the opset the file imports. */
    public static final String OPSET = "onnx.opset";
    /** The least standard deviation a normalization may have, as in model files. */
    static final double MIN_STD = 1e-6;

    private OnnxFile() {
    }

    /**
     * Whether {@code file} is named as an ONNX model (ends in .onnx, in any case).
     *
     * @param file a path
     * @return true for NAME.onnx
     */
    public static boolean isOnnx(Path file) {
        Path name = file.getFileName();
        return name != null && name.toString().toLowerCase(Locale.ROOT).endsWith(EXTENSION);
    }

    /**
     * Exports a model as ONNX, atomically (a crash leaves the previous file, or none).
     *
     * @param file the file to write, replacing one that is there
     * @param model the model, left as it is
     * @throws IllegalArgumentException naming the layers that have no ONNX form
     * @throws IOException when the file cannot be written
     */
    public static void write(Path file, Model model) throws IOException {
        write(file, model.describe());
    }

    /**
     * Exports a model description that holds weights as ONNX, atomically.
     *
     * @param file the file to write, replacing one that is there
     * @param model the description; its weights are written
     * @throws IllegalArgumentException when the description holds no weights, or naming the layers that have no
     *     ONNX form
     * @throws IOException when the file cannot be written
     */
    public static void write(Path file, ModelDescription model) throws IOException {
        ModelProto proto = OnnxExporter.export(model);
        AtomicFiles.write(file, proto::writeTo);
    }

    /**
     * A model description as the bytes of an ONNX file.
     *
     * @param model the description; its weights are written
     * @return the serialized ONNX model
     * @throws IllegalArgumentException when the description holds no weights, or naming the layers that have no
     *     ONNX form
     */
    public static byte[] toBytes(ModelDescription model) {
        return OnnxExporter.export(model).toByteArray();
    }

    /**
     * Reads an ONNX file into a model description, checked, without placing anything on a
     * backend. Its normalization and class names come from the metadata properties Receptive
     * writes; a file without them has none ({@link dev.receptive.nn.ModelInfo#hasNormalization()} is
     * false), and the caller decides how to scale its inputs.
     *
     * @param file an ONNX file
     * @return the description, with every metadata property and the producer ({@value #PRODUCER}) and opset
     *     ({@value #OPSET}) as metadata
     * @throws IOException naming the file: it cannot be read, is not ONNX, is malformed (a truncated or damaged
     *     message, tensors whose dims overflow or whose values are missing, a cycle, a value no one defines), or
     *     holds ops, attributes or values that Receptive cannot express, which the message lists
     */
    public static ModelFile.Contents read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 8) {
            throw new IOException(file + ": " + size + " bytes, more than the 2 GiB that one protobuf message holds;"
                    + " models that large keep their weights in external files, which this reader does not follow");
        }
        ModelProto proto = parse(Files.readAllBytes(file), file.toString());
        Map<String, String> metadata = new LinkedHashMap<>();
        for (StringStringEntryProto e : proto.getMetadataPropsList()) {
            metadata.put(e.getKey(), e.getValue());
        }
        String producer = (proto.getProducerName() + " " + proto.getProducerVersion()).trim();
        metadata.putIfAbsent(PRODUCER, producer.isEmpty() ? "unknown" : producer);
        for (OperatorSetIdProto o : proto.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                metadata.putIfAbsent(OPSET, Long.toString(o.getVersion()));
            }
        }
        return new ModelFile.Contents(file, describe(proto, file.toString()), metadata);
    }

    /**
     * Reads an ONNX model held in memory.
     *
     * @param bytes the serialized ONNX model
     * @param name what to call it in messages, e.g. the name it was uploaded under
     * @return the description
     * @throws IOException naming {@code name} and what is wrong, as {@link #read(Path)}
     */
    public static ModelDescription read(byte[] bytes, String name) throws IOException {
        return describe(parse(bytes, name), name);
    }

    private static ModelProto parse(byte[] bytes, String name) throws IOException {
        try {
            return ModelProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IOException(name + ": not an ONNX model (its protobuf message is damaged or truncated: "
                    + e.getMessage() + ")", e);
        }
    }

    private static ModelDescription describe(ModelProto proto, String name) throws IOException {
        try {
            return OnnxImporter.read(proto, name);
        } catch (OnnxFormatException e) {
            throw new IOException(e.getMessage(), e);
        }
    }
}
