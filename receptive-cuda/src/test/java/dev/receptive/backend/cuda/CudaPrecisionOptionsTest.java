package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.cuda.CudaOptions.Precision;
import org.junit.jupiter.api.Test;

/** How a precision is named and chosen, and what it allows; no GPU needed (CudaPrecisionTest measures it on one). */
class CudaPrecisionOptionsTest {
    @Test
    void namesParseInAnyCaseAndOthersAreRefusedNamingTheModes() {
        assertEquals(Precision.FP32, Precision.parse("fp32"));
        assertEquals(Precision.TF32, Precision.parse(" TF32 "));
        assertEquals(Precision.BF16, Precision.parse("Bf16"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Precision.parse("fp16"));
        assertEquals("cuda: precision must be fp32, tf32 or bf16, got 'fp16'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Precision.parse(null));
    }

    @Test
    void thePropertyWinsOverTheVariableAndNeitherMeansFp32() {
        assertEquals(Precision.FP32, CudaBackendProvider.precision(null, null));
        assertEquals(Precision.FP32, CudaBackendProvider.precision(" ", ""));
        assertEquals(Precision.BF16, CudaBackendProvider.precision(null, "bf16"));
        assertEquals(Precision.TF32, CudaBackendProvider.precision("tf32", "bf16"));
        assertThrows(IllegalArgumentException.class, () -> CudaBackendProvider.precision("int8", null));
    }

    @Test
    void onlyFp32WithoutFastMathKeepsTensorCoresOff() {
        CudaOptions o = CudaOptions.defaults();
        assertEquals(Precision.FP32, o.precision(), "fp32 is the default");
        assertFalse(o.tensorCores());
        assertTrue(o.withPrecision(Precision.TF32).tensorCores());
        assertTrue(o.withPrecision(Precision.BF16).tensorCores());
        assertTrue(o.withFastMath(true).tensorCores());
        assertEquals(Precision.BF16, o.withPrecision(Precision.BF16).withStreams(2).withDeterministic(true)
                .withWorkspaceLimit(1).withDevice(1).precision(), "every with* keeps the precision");
        assertThrows(IllegalArgumentException.class, () -> o.withPrecision(null));
    }
}
