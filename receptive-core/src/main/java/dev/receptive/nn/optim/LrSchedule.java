package dev.receptive.nn.optim;

import java.util.Locale;

/**
 * The learning rate for each epoch (counted from 0), from the base rate, like PyTorch's epoch
 * schedulers: the trainer calls {@code optimizer.setLearningRate(schedule.lr(epoch, baseLr))}
 * before each epoch.
 */
@FunctionalInterface
public interface LrSchedule {

    /** The learning rate of {@code epoch} (from 0) for base rate {@code baseLr}. */
    float lr(int epoch, float baseLr);

    /**
     * The schedule and its settings, e.g. "step(1, 0.5)": what a checkpoint records so a resume
     * with another schedule is noticed. A schedule written as a lambda is "custom".
     */
    default String describe() {
        return "custom";
    }

    /** The base rate every epoch. */
    static LrSchedule constant() {
        return named("constant", (epoch, baseLr) -> baseLr);
    }

    /** baseLr · gamma^⌊epoch / stepSize⌋, like PyTorch's StepLR. */
    static LrSchedule step(int stepSize, double gamma) {
        if (stepSize < 1 || !(gamma > 0 && gamma <= 1)) {
            throw new IllegalArgumentException("LrSchedule.step: stepSize must be >= 1 and gamma in (0, 1], got "
                    + stepSize + " and " + gamma);
        }
        return named(String.format(Locale.ROOT, "step(%d, %s)", stepSize, gamma),
                (epoch, baseLr) -> (float) (baseLr * Math.pow(gamma, Math.floorDiv(epoch, stepSize))));
    }

    /**
     * minLr + (baseLr − minLr)·(1 + cos(π·epoch / totalEpochs)) / 2, like PyTorch's
     * CosineAnnealingLR with T_max = totalEpochs and eta_min = minLr; it stays at minLr after
     * totalEpochs, where PyTorch's would climb back.
     */
    static LrSchedule cosine(int totalEpochs, double minLr) {
        if (totalEpochs < 1 || !(minLr >= 0)) {
            throw new IllegalArgumentException("LrSchedule.cosine: totalEpochs must be >= 1 and minLr >= 0, got "
                    + totalEpochs + " and " + minLr);
        }
        return named(String.format(Locale.ROOT, "cosine(%d, %s)", totalEpochs, minLr), (epoch, baseLr) -> {
            double t = Math.min(epoch, totalEpochs);
            return (float) (minLr + (baseLr - minLr) * (1 + Math.cos(Math.PI * t / totalEpochs)) / 2);
        });
    }

    private static LrSchedule named(String description, LrSchedule f) {
        return new LrSchedule() {
            @Override
            public float lr(int epoch, float baseLr) {
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
