/**
 * ONNX export and import of Receptive models: {@link dev.receptive.onnx.OnnxFile}. The module depends on
 * receptive-core and protobuf-java; its protobuf classes, generated from ONNX's own schema, are not API.
 */
package dev.receptive.onnx;
