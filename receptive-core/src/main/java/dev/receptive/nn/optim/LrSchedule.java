package dev.receptive.nn.optim;

import java.util.Locale;

/**
 * The learning rate at each point of training, from the base rate. Time is counted in epochs
 * from 0 and may be fractional: the trainer calls {@code optimizer.setLearningRate(schedule.lr(t,
 * baseLr))} before every step with t = epoch + (step in the epoch) / (steps per epoch), so a
 * schedule can change per epoch, as PyTorch's epoch schedulers do ({@link #step}, {@link #cosine}),
 * or smoothly within epochs ({@link #warmupCosine}).
 */
@FunctionalInterface
public interface LrSchedule {

    /**
     * The learning rate at a point of training.
     *
     * @param epoch the time in epochs from 0, fractional within an epoch
     * @param baseLr the optimizer's base rate
     * @return the rate for the next step, ≥ 0
     */
    float lr(double epoch, float baseLr);

    /**
     * The schedule and its settings, e.g. "step(1, 0.5)": what a checkpoint records so a resume
     * with another schedule is noticed. A schedule written as a lambda is "custom".
     *
     * @return the description, e.g. "cosine(30, 0.0)"
     */
    default String describe() {
        return "custom";
    }

    /** {@return the schedule that keeps the base rate every epoch} */
    static LrSchedule constant() {
        return named("constant", (epoch, baseLr) -> baseLr);
    }

    /**
     * baseLr · gamma^⌊epoch / stepSize⌋, like PyTorch's StepLR.
     *
     * @param stepSize epochs between decays, ≥ 1
     * @param gamma the factor per decay, in (0, 1]
     * @return the schedule, described as "step(stepSize, gamma)"
     * @throws IllegalArgumentException when either is out of range
     */
    static LrSchedule step(int stepSize, double gamma) {
        if (stepSize < 1 || !(gamma > 0 && gamma <= 1)) {
            throw new IllegalArgumentException("LrSchedule.step: stepSize must be >= 1 and gamma in (0, 1], got "
                    + stepSize + " and " + gamma);
        }
        return named(String.format(Locale.ROOT, "step(%d, %s)", stepSize, gamma),
                (epoch, baseLr) -> (float) (baseLr * Math.pow(gamma, Math.floorDiv((int) Math.floor(epoch), stepSize))));
    }

    /**
     * minLr + (baseLr − minLr)·(1 + cos(π·epoch / totalEpochs)) / 2 at each whole epoch, like
     * PyTorch's CosineAnnealingLR with T_max = totalEpochs and eta_min = minLr; it stays at minLr
     * after totalEpochs, where PyTorch's would climb back.
     *
     * @param totalEpochs the length of the decay, ≥ 1
     * @param minLr the final rate, ≥ 0
     * @return the schedule, described as "cosine(totalEpochs, minLr)"
     * @throws IllegalArgumentException when either is out of range
     */
    static LrSchedule cosine(int totalEpochs, double minLr) {
        if (totalEpochs < 1 || !(minLr >= 0)) {
            throw new IllegalArgumentException("LrSchedule.cosine: totalEpochs must be >= 1 and minLr >= 0, got "
                    + totalEpochs + " and " + minLr);
        }
        return named(String.format(Locale.ROOT, "cosine(%d, %s)", totalEpochs, minLr), (epoch, baseLr) -> {
            double t = Math.min(Math.floor(epoch), totalEpochs);
            return (float) (minLr + (baseLr - minLr) * (1 + Math.cos(Math.PI * t / totalEpochs)) / 2);
        });
    }

    /**
     * A linear warm-up from 0 to the base rate over {@code warmupEpochs}, then a cosine decay to
     * {@code minLr} at {@code totalEpochs}, changing every step (the recipe of Goyal et al. 2017 and
     * most ResNet training since); minLr after totalEpochs.
     *
     * @param warmupEpochs the length of the warm-up, in [0, totalEpochs), fractional allowed
     * @param totalEpochs where the decay ends, ≥ 1
     * @param minLr the final rate, ≥ 0
     * @return the schedule, described as "warmupCosine(warmupEpochs, totalEpochs, minLr)"
     * @throws IllegalArgumentException when a value is out of range
     */
    static LrSchedule warmupCosine(double warmupEpochs, int totalEpochs, double minLr) {
        if (!(warmupEpochs >= 0) || totalEpochs < 1 || warmupEpochs >= totalEpochs || !(minLr >= 0)) {
            throw new IllegalArgumentException("LrSchedule.warmupCosine: warm-up must be in [0, totalEpochs), totalEpochs"
                    + " >= 1 and minLr >= 0, got " + warmupEpochs + ", " + totalEpochs + " and " + minLr);
        }
        return named(String.format(Locale.ROOT, "warmupCosine(%s, %d, %s)", warmupEpochs, totalEpochs, minLr),
                (epoch, baseLr) -> {
                    if (epoch < warmupEpochs) {
                        return (float) (baseLr * epoch / warmupEpochs);
                    }
                    double t = Math.min(1, (epoch - warmupEpochs) / (totalEpochs - warmupEpochs));
                    return (float) (minLr + (baseLr - minLr) * (1 + Math.cos(Math.PI * t)) / 2);
                });
    }

    private static LrSchedule named(String description, LrSchedule f) {
        return new LrSchedule() {
            @Override
            public float lr(double epoch, float baseLr) {
                return f.lr(epoch, baseLr);
            }

            @Override
            public String describe() {
                return description;
            }

            @Override
            public String toString() {
                return description;
            }
        };
    }
}
