package dev.receptive.testing;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base of the op contract suites. A suite is an abstract subclass holding the tests; each
 * backend gets a one-line concrete subclass that says how to make it (the CUDA one skips
 * through a JUnit assumption when no GPU is present). Tensors made through {@link #t} are
 * closed after each test, then the backend.
 */
public abstract class ContractBase {
    protected Backend backend;
    private final List<Tensor> made = new ArrayList<>();

    /** Makes the backend under test; may abort the test through an assumption. */
    protected abstract Backend createBackend();

    @BeforeEach
    final void openBackend() {
        backend = createBackend();
    }

    @AfterEach
    final void closeBackend() {
        for (int i = made.size() - 1; i >= 0; i--) {
            made.get(i).close();
        }
        made.clear();
        if (backend != null) {
            backend.close();
        }
    }

    /** A tensor on the backend under test holding data, closed after the test. */
    protected final Tensor t(float[] data, int... dims) {
        Tensor x = backend.upload(data, Shape.of(dims));
        made.add(x);
        return x;
    }

    /** A zero tensor on the backend under test, closed after the test. */
    protected final Tensor zeros(int... dims) {
        Tensor x = backend.allocate(Shape.of(dims));
        made.add(x);
        return x;
    }

    protected final float[] get(Tensor x) {
        return backend.download(x);
    }
}
