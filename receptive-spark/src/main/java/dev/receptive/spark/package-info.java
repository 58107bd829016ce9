/**
 * Receptive on Apache Spark: synchronous data-parallel training
 * ({@link dev.receptive.spark.SparkTrainer}, whose per-step gradients equal single-process training
 * on the same global batch within fp32 rounding, with the driver's sum or an all-reduce among the
 * tasks) and distributed batch inference over a DataFrame
 * ({@link dev.receptive.spark.SparkPredictor}). A model travels to the executors as a
 * {@link dev.receptive.nn.ModelDescription}; training data is read by each executor from a shared
 * folder ({@link dev.receptive.spark.TrainingData}). Each executor JVM keeps one backend per device
 * in {@link dev.receptive.spark.ExecutorResources}, which {@link dev.receptive.spark.ReceptivePlugin}
 * closes when the executor stops. {@link dev.receptive.spark.TrainMnistOnSpark} is a runnable
 * example.
 */
package dev.receptive.spark;
