package dev.receptive.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolContract;
import dev.receptive.backend.PoolMode;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import org.junit.jupiter.api.Test;

class CpuPoolTest extends PoolContract {
    @Override
    protected Backend createBackend() {
        return new CpuBackend();
    }

    @Test
    void maxBackwardRejectsAYThatIsNotTheWindowMaximum() {
        // The CPU routes dy to the first input equal to y, so a y from another x cannot be routed.
        Tensor x = t(new float[] {1, 2, 3, 4}, 1, 1, 2, 2);
        Tensor y = t(new float[] {5}, 1, 1, 1, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.pool2dBackward(PoolMode.MAX, zeros(1, 1, 2, 2), y, x, y, Pool2dParams.of(2, 2, 0)));
        assertTrue(e.getMessage().contains("pool2dBackward") && e.getMessage().contains("5.0"), e.getMessage());
    }

    @Test
    void maxPoolingPropagatesNaNAndRoutesItsGradientThere() {
        // Like PyTorch: a NaN in a window makes the output NaN, so a diverged model shows it.
        Tensor x = t(new float[] {1, Float.NaN, 3, 4}, 1, 1, 2, 2);
        Tensor y = zeros(1, 1, 1, 1);
        Pool2dParams p = Pool2dParams.of(2, 2, 0);
        backend.pool2dForward(PoolMode.MAX, y, x, p);
        assertTrue(Float.isNaN(get(y)[0]), "max over a NaN");
        Tensor dx = zeros(1, 1, 2, 2);
        backend.pool2dBackward(PoolMode.MAX, dx, t(new float[] {2}, 1, 1, 1, 1), x, y, p);
        Close.assertClose("dx", new float[] {0, 2, 0, 0}, get(dx), 0, 0);
    }
}
