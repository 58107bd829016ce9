package dev.receptive.onnx;

import com.google.protobuf.ByteString;
import dev.receptive.onnx.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * ONNX tensors to and from Java arrays: float32 for weights, int64 for shapes, pads and axes.
 * Every size is checked before an array is made, so a tensor whose dims declare more values than
 * the file holds fails with its name instead of allocating them.
 */
final class OnnxTensors {
    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    static final int INT64 = TensorProto.DataType.INT64_VALUE;
    static final int BOOL = TensorProto.DataType.BOOL_VALUE;

    private OnnxTensors() {
    }

    /** A constant tensor: its dims and its values, as floats or as longs (int64, or booleans as 0 and 1; the other is null). */
    record Constant(String name, long[] dims, float[] floats, long[] longs) {
        /** The number of values, the product of the dims (1 for a scalar). */
        int size() {
            return floats != null ? floats.length : longs.length;
        }

        boolean isFloat() {
            return floats != null;
        }

        int rank() {
            return dims.length;
        }

        @Override
        public String toString() {
            return name + " " + Arrays.toString(dims);
        }
    }

    /**
     * The values of a float32 or int64 tensor. {@code where} starts every message (the file).
     *
     * @throws OnnxFormatException for another data type, values stored outside the file, dims
     *     that are negative or whose product overflows, or a count of values that differs from it
     */
    static Constant read(TensorProto t, String where) {
        String name = t.getName();
        String what = where + ": tensor '" + name + "'";
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0) {
            throw new OnnxFormatException(what + " keeps its values in an external file; this reader takes models"
                    + " whose weights are inside the .onnx file");
        }
        if (t.hasSegment()) {
            throw new OnnxFormatException(what + " is a segment of a larger tensor, which this reader does not join");
        }
        long[] dims = new long[t.getDimsCount()];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            dims[i] = t.getDims(i);
            if (dims[i] < 0) {
                throw new OnnxFormatException(what + " has a negative dimension: " + t.getDimsList());
            }
            // Each factor is checked before it multiplies, so the product of two at most 2^31 fits a long.
            if (dims[i] > Integer.MAX_VALUE - 8 || (count *= dims[i]) > Integer.MAX_VALUE - 8) {
                throw new OnnxFormatException(what + " declares dims " + t.getDimsList()
                        + ", more than 2^31 values: more than an array holds");
            }
        }
        int n = (int) count;
        int type = t.getDataType();
        ByteString raw = t.getRawData();
        if (type == FLOAT) {
            float[] values;
            if (!raw.isEmpty()) {
                checkCount(what, n, raw.size(), Float.BYTES, t.getFloatDataCount());
                values = new float[n];
                raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
            } else {
                if (t.getFloatDataCount() != n) {
                    throw new OnnxFormatException(what + " declares dims " + t.getDimsList() + " = " + n + " values but"
                            + " holds " + t.getFloatDataCount());
                }
                values = new float[n];
                for (int i = 0; i < n; i++) {
                    values[i] = t.getFloatData(i);
                }
            }
            return new Constant(name, dims, values, null);
        }
        if (type == INT64) {
            long[] values;
            if (!raw.isEmpty()) {
                checkCount(what, n, raw.size(), Long.BYTES, t.getInt64DataCount());
                values = new long[n];
                raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(values);
            } else {
                if (t.getInt64DataCount() != n) {
                    throw new OnnxFormatException(what + " declares dims " + t.getDimsList() + " = " + n + " values but"
                            + " holds " + t.getInt64DataCount());
                }
                values = new long[n];
                for (int i = 0; i < n; i++) {
                    values[i] = t.getInt64Data(i);
                }
            }
            return new Constant(name, dims, null, values);
        }
        if (type == BOOL) {
            // Dropout's training_mode; one byte per value in raw_data, else int32_data.
            long[] values = new long[n];
            if (!raw.isEmpty()) {
                checkCount(what, n, raw.size(), 1, t.getInt32DataCount());
                for (int i = 0; i < n; i++) {
                    values[i] = raw.byteAt(i) != 0 ? 1 : 0;
                }
            } else {
                if (t.getInt32DataCount() != n) {
                    throw new OnnxFormatException(what + " declares dims " + t.getDimsList() + " = " + n + " values but"
                            + " holds " + t.getInt32DataCount());
                }
                for (int i = 0; i < n; i++) {
                    values[i] = t.getInt32Data(i) != 0 ? 1 : 0;
                }
            }
            return new Constant(name, dims, null, values);
        }
        throw new OnnxFormatException(what + " has data type " + typeName(type) + "; this reader takes FLOAT weights,"
                + " INT64 shapes and BOOL flags");
    }

    private static void checkCount(String what, int n, int rawBytes, int bytesPerValue, int typedCount) {
        if (typedCount > 0) {
            throw new OnnxFormatException(what + " holds both raw_data and typed values");
        }
        if ((long) n * bytesPerValue != rawBytes) {
            throw new OnnxFormatException(what + " declares " + n + " values of " + bytesPerValue + " bytes but holds "
                    + rawBytes + " bytes of raw_data");
        }
    }

    /** "FLOAT16 (10)" for data type 10. */
    static String typeName(int type) {
        TensorProto.DataType t = TensorProto.DataType.forNumber(type);
        return (t == null ? "unknown" : t.name()) + " (" + type + ")";
    }

    /** A float32 tensor named {@code name}, little-endian raw data, as ONNX Runtime and PyTorch write them. */
    static TensorProto floats(String name, int[] dims, float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(FLOAT)
                .setRawData(ByteString.copyFrom(bytes.array()));
        for (int d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    /** A one-dimensional int64 tensor named {@code name}. */
    static TensorProto longs(String name, long... values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asLongBuffer().put(values);
        return TensorProto.newBuilder().setName(name).setDataType(INT64).addDims(values.length)
                .setRawData(ByteString.copyFrom(bytes.array())).build();
    }
}
