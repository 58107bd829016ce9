package dev.receptive.bench.djl;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.nn.Pass;
import dev.receptive.zoo.Zoo;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One measurement of one network on one engine, in this process: {@code receptive} (the CPU
 * backend) or {@code pytorch} (PyTorch's CPU build through DJL). Both run the same network, the
 * same random 1×28×28 batch uploaded every step, softmax cross-entropy and Adam, and the same
 * timing: a warm-up, then the median of timed samples. Networks: {@code w1} (the default; conv5×5×32
 * pad 2 + ReLU → maxpool 2 → conv5×5×64 pad 2 + ReLU → maxpool 2 → dense 1024 + ReLU → dropout 0.5
 * → dense 10) and {@code resnet14} (the zoo's {@code Zoo.resnet(input, 2, 16, 10)}, rebuilt with
 * DJL's blocks in {@link #djlResnet}; the PyTorch side refuses to run when its trainable parameter
 * count differs from Receptive's). Modes: {@code train} and {@code infer} print images/s,
 * {@code latency} the milliseconds of one batch-1 forward pass.
 *
 * <p>Usage: {@code SideBySide receptive|pytorch train|infer|latency batch [w1|resnet14] [samples]};
 * one line out: {@code engine=... model=... mode=... batch=... value=...}.
 *
 * <p>With the system property {@code receptive.bench.clock=thread-cpu} the samples are timed in
 * the calling thread's CPU time, which leaves out the time other processes hold the core. It is
 * only right when each engine computes on the calling thread alone: one thread each (Receptive's
 * CPU backend on 1 thread runs every op on the caller; PyTorch with 1 intra-op thread runs its
 * kernels and the CPU autograd engine on the caller too).
 */
public final class SideBySide {
    private static final float LR = 1e-4f;
    /**
     * Calls before timing starts. Three seconds are 8 resnet14 steps at batch 128 on one core, and
     * C2 had then not yet compiled the GEMM tiles (until about step 15) nor Adam's loop (step 20):
     * the first timed samples ran the Vector API's Java fallback (seen with JFR and
     * -XX:+PrintCompilation), several times slower.
     */
    private static final int WARM_UP_CALLS = 30;
    /** The calling thread's CPU clock, or null for wall time. */
    private static final ThreadMXBean CPU_CLOCK =
            "thread-cpu".equals(System.getProperty("receptive.bench.clock")) ? ManagementFactory.getThreadMXBean() : null;

    private static long now() {
        return CPU_CLOCK == null ? System.nanoTime() : CPU_CLOCK.getCurrentThreadCpuTime();
    }

    private SideBySide() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: SideBySide receptive|pytorch train|infer|latency batch [w1|resnet14] [samples]");
            System.exit(2);
        }
        String engine = args[0];
        String mode = args[1];
        int batch = Integer.parseInt(args[2]);
        String net = args.length > 3 ? args[3] : "w1";
        if (!net.equals("w1") && !net.equals("resnet14")) {
            throw new IllegalArgumentException("model must be w1 or resnet14, got " + net);
        }
        int samples = args.length > 4 ? Integer.parseInt(args[4]) : 7;
        SplittableRandom rnd = new SplittableRandom(1);
        float[] images = new float[batch * 784];
        float[] labels = new float[batch];
        for (int i = 0; i < images.length; i++) {
            images[i] = (float) rnd.nextDouble();
        }
        for (int i = 0; i < batch; i++) {
            labels[i] = rnd.nextInt(10);
        }
        double seconds = switch (engine) {
            case "receptive" -> receptive(net, mode, batch, images, labels, samples);
            case "pytorch" -> pytorch(net, mode, batch, images, labels, samples);
            default -> throw new IllegalArgumentException("engine must be receptive or pytorch, got " + engine);
        };
        double value = mode.equals("latency") ? seconds * 1e3 : batch / seconds;
        System.out.printf("engine=%s model=%s mode=%s batch=%d value=%.2f%n", engine, net, mode, batch, value);
    }

    /** Receptive's network called {@code net}, seeded with 42, on {@code cpu}. */
    private static dev.receptive.nn.Model receptiveNet(String net, Backend cpu) {
        return net.equals("w1") ? Zoo.seedNet().seed(42).build(cpu) : Zoo.build(net, cpu, 42);
    }

    /**
     * Receptive's side: the zoo's network, stepped as the trainer steps it (clear the
     * gradients, upload the batch, forward, loss, backward, Adam) or run for inference (forward in
     * evaluation, logits copied back).
     */
    private static double receptive(String name, String mode, int batch, float[] images, float[] labels, int samples) {
        try (Backend cpu = Backends.create("cpu");
                dev.receptive.nn.Model net = receptiveNet(name, cpu);
                dev.receptive.nn.Workspace ws = net.newWorkspace();
                dev.receptive.nn.loss.Loss loss = dev.receptive.nn.loss.Loss.softmaxCrossEntropy();
                dev.receptive.nn.optim.Optimizer adam = dev.receptive.nn.optim.Optimizer.adam(LR).build();
                dev.receptive.tensor.Tensor y = cpu.upload(labels, dev.receptive.tensor.Shape.of(batch))) {
            System.err.println("receptive: " + cpu.description() + ", " + name + " with " + net.parameterCount()
                    + " parameters");
            int[] step = {0};
            float[] logits = new float[batch * 10];
            Runnable one = mode.equals("train") ? () -> {
                net.zeroGrad();
                loss.compute(ws.forward(images, Pass.train(step[0]++)), y);
                ws.backward(loss.gradient());
                adam.step(net.parameters());
            } : () -> cpu.download(ws.forward(images, Pass.EVAL), logits);
            return medianSeconds(one, samples);
        }
    }

    private static double pytorch(String name, String mode, int batch, float[] images, float[] labels, int samples) {
        // The native library comes from the pytorch-native-cpu artifact on the class path.
        System.setProperty("ai.djl.offline", "true");
        Engine torch = Engine.getEngine("PyTorch");
        System.err.println("pytorch: " + torch.getEngineName() + " " + torch.getVersion() + ", threads "
                + System.getProperty("ai.djl.pytorch.num_threads", "default"));
        Block net = name.equals("w1") ? djlW1() : djlResnet(2, 16, 10);
        try (Model model = Model.newInstance(name, "PyTorch")) {
            model.setBlock(net);
            Shape input = new Shape(batch, 1, 28, 28);
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(LR)).build())
                    .optDevices(new Device[] {Device.cpu()});
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(input);
                checkParameterCount(name, net);
                NDManager root = trainer.getManager();
                if (mode.equals("train")) {
                    return medianSeconds(() -> {
                        try (NDManager step = root.newSubManager()) {
                            NDArray x = step.create(images, input);
                            NDArray y = step.create(labels, new Shape(batch));
                            try (GradientCollector gc = trainer.newGradientCollector()) {
                                NDList pred = trainer.forward(new NDList(x));
                                NDArray loss = trainer.getLoss().evaluate(new NDList(y), pred);
                                gc.backward(loss);
                            }
                            trainer.step();
                        }
                    }, samples);
                }
                ParameterStore params = new ParameterStore(root, false);
                return medianSeconds(() -> {
                    try (NDManager step = root.newSubManager()) {
                        NDArray x = step.create(images, input);
                        net.forward(params, new NDList(x), false).singletonOrThrow().toFloatArray();
                    }
                }, samples);
            }
        }
    }

    /**
     * Refuses to measure two different networks: the DJL block's trainable parameters (batch norms'
     * running statistics excluded) must count as many as Receptive's model of the same name.
     */
    private static void checkParameterCount(String name, Block net) {
        long djl = 0;
        for (var p : net.getParameters()) {
            Parameter param = p.getValue();
            if (param.requiresGradient()) {
                djl += param.getArray().getShape().size();
            }
        }
        long receptive;
        try (Backend cpu = Backends.create("cpu"); dev.receptive.nn.Model r = receptiveNet(name, cpu)) {
            receptive = r.parameterCount();
        }
        System.err.println("parameters of " + name + ": pytorch " + djl + ", receptive " + receptive);
        if (djl != receptive) {
            throw new IllegalStateException("SideBySide: the PyTorch " + name + " has " + djl
                    + " trainable parameters and Receptive's " + receptive + ": not the same network");
        }
    }

    /** W1 with DJL's blocks. */
    private static Block djlW1() {
        return new SequentialBlock()
                .add(Conv2d.builder().setKernelShape(new Shape(5, 5)).optPadding(new Shape(2, 2)).setFilters(32).build())
                .add(Activation::relu)
                .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
                .add(Conv2d.builder().setKernelShape(new Shape(5, 5)).optPadding(new Shape(2, 2)).setFilters(64).build())
                .add(Activation::relu)
                .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(1024).build())
                .add(Activation::relu)
                .add(Dropout.builder().optRate(0.5f).build())
                .add(Linear.builder().setUnits(10).build());
    }

    /**
     * The zoo's {@code Zoo.resnet(input, blocksPerStage, base, classes)} with DJL's blocks, layer for
     * layer: conv 3×3 (no bias) → batch norm → ReLU; three stages of basic blocks of base, 2·base and
     * 4·base channels, the first block of stages 2 and 3 with stride 2 and a 1×1 strided projection
     * (no bias) + batch norm as its shortcut; global average pooling; dense to the classes.
     * Convolutions start He normal (Gaussian, fan-in, magnitude 2) like Receptive's {@code Init.he()},
     * the dense layer Glorot uniform like {@code Init.xavier()}, batch norms at
     * 1 and 0 with eps 1e-5 and PyTorch's momentum 0.1 (DJL writes it as 0.9 for the old statistics).
     */
    static Block djlResnet(int blocksPerStage, int base, int classes) {
        SequentialBlock net = new SequentialBlock()
                .add(conv3x3(base, 1))
                .add(batchNorm())
                .add(Activation::relu);
        int in = base;
        for (int stage = 0; stage < 3; stage++) {
            int out = base << stage;
            for (int b = 0; b < blocksPerStage; b++) {
                int stride = stage > 0 && b == 0 ? 2 : 1;
                net.add(basicBlock(in, out, stride));
                in = out;
            }
        }
        Block fc = Linear.builder().setUnits(classes).build();
        // Glorot uniform: U(±√(6 / (in + out))); DJL draws U(±√(magnitude / ((in + out) / 2))).
        fc.setInitializer(new XavierInitializer(XavierInitializer.RandomType.UNIFORM,
                XavierInitializer.FactorType.AVG, 3), Parameter.Type.WEIGHT);
        return net.add(Pool.globalAvgPool2dBlock()).add(fc);
    }

    private static Block conv3x3(int filters, int stride) {
        return he(Conv2d.builder().setKernelShape(new Shape(3, 3)).optStride(new Shape(stride, stride))
                .optPadding(new Shape(1, 1)).optBias(false).setFilters(filters).build());
    }

    /** He normal: N(0, 2 / fan-in); DJL's Gaussian Xavier draws N(0, magnitude / fan-in). */
    private static Block he(Block conv) {
        conv.setInitializer(new XavierInitializer(XavierInitializer.RandomType.GAUSSIAN,
                XavierInitializer.FactorType.IN, 2), Parameter.Type.WEIGHT);
        return conv;
    }

    private static Block batchNorm() {
        return BatchNorm.builder().optEpsilon(1e-5f).optMomentum(0.9f).build();
    }

    /** ResidualBlocks.basic: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)). */
    private static Block basicBlock(int in, int out, int stride) {
        SequentialBlock residual = new SequentialBlock()
                .add(conv3x3(out, stride))
                .add(batchNorm())
                .add(Activation::relu)
                .add(conv3x3(out, 1))
                .add(batchNorm());
        Block shortcut = stride != 1 || in != out
                ? new SequentialBlock()
                        .add(he(Conv2d.builder().setKernelShape(new Shape(1, 1)).optStride(new Shape(stride, stride))
                                .optBias(false).setFilters(out).build()))
                        .add(batchNorm())
                : Blocks.identityBlock();
        return new SequentialBlock()
                .add(new ParallelBlock(
                        list -> new NDList(list.get(0).singletonOrThrow().add(list.get(1).singletonOrThrow())),
                        List.of(residual, shortcut)))
                .add(Activation::relu);
    }

    /**
     * Warm up for 3 s and at least {@link #WARM_UP_CALLS} calls (the JITs compile), then the median
     * over samples of the mean time per call.
     */
    static double medianSeconds(Runnable op, int samples) {
        long warmEnd = System.nanoTime() + 3_000_000_000L;
        int calls = 0;
        long t0 = System.nanoTime();
        do {
            op.run();
            calls++;
        } while (System.nanoTime() < warmEnd || calls < WARM_UP_CALLS);
        double perCall = (System.nanoTime() - t0) / 1e9 / calls;
        int reps = (int) Math.max(1, Math.min(1000, 0.5 / perCall));
        double[] times = new double[samples];
        for (int s = 0; s < samples; s++) {
            long t = now();
            for (int r = 0; r < reps; r++) {
                op.run();
            }
            times[s] = (now() - t) / 1e9 / reps;
        }
        Arrays.sort(times);
        return times[samples / 2];
    }
}
