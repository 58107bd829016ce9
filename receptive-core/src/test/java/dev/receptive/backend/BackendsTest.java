package dev.receptive.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Engine choice through ServiceLoader, with the test classpath's {@link FakeBackendProvider}. */
class BackendsTest {
    private final List<String> lines = new ArrayList<>();

    @AfterEach
    void reset() {
        System.clearProperty(Backends.PROPERTY);
        FakeBackendProvider.working = false;
    }

    private Backend create(String choice) {
        return Backends.create(choice, BackendOptions.defaults(), lines::add);
    }

    @Test
    void providersAreFoundOnTheClasspath() {
        assertEquals(List.of("fake"), Backends.providers().stream().map(BackendProvider::name).toList());
        assertTrue(Backends.provider(" FAKE").isPresent());
    }

    @Test
    void cpuIsAlwaysThereAndNeverAsksTheProviders() {
        int before = FakeBackendProvider.CREATED.get();
        try (Backend b = create("CPU ")) {
            assertEquals("cpu", b.name());
        }
        assertEquals(before, FakeBackendProvider.CREATED.get());
        assertEquals(List.of(), lines);
    }

    @Test
    void autoTakesAWorkingProviderSilently() {
        FakeBackendProvider.working = true;
        int before = FakeBackendProvider.CREATED.get();
        try (Backend b = create(null)) {
            assertEquals(before + 1, FakeBackendProvider.CREATED.get());
        }
        assertEquals(List.of(), lines);
    }

    @Test
    void autoFallsBackToTheCpuAndSaysWhyInOneLine() {
        int before = FakeBackendProvider.CREATED.get();
        try (Backend b = create("auto")) {
            assertEquals("cpu", b.name());
        }
        assertEquals(before, FakeBackendProvider.CREATED.get());
        assertEquals(List.of("using the CPU backend; fake is not available: no fake device"), lines);
    }

    @Test
    void aNamedBackendNeverFallsBackAndGivesTheFix() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> create("fake"));
        assertTrue(e.getMessage().contains("no fake device: plug one in"), e.getMessage());
        assertEquals(List.of(), lines);
    }

    @Test
    void thePropertyDecidesWhenNoChoiceIsGivenAndBadChoicesAreNamed() {
        System.setProperty(Backends.PROPERTY, "cpu");
        assertEquals("cpu", Backends.resolve(null));
        assertEquals("fake", Backends.resolve("fake"), "an explicit choice wins over the property");
        System.clearProperty(Backends.PROPERTY);
        if (System.getenv(Backends.ENV) == null) {
            assertEquals("auto", Backends.resolve(" "));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.resolve("gpu"));
        assertTrue(e.getMessage().contains("'gpu'") && e.getMessage().contains("auto, cpu or fake"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Backends.resolve("cuda"));
        assertTrue(e.getMessage().contains("receptive-cuda module"), e.getMessage());
    }
}
