package dev.receptive.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Engine choice through ServiceLoader: receptive-core's CPU provider and the test classpath's {@link FakeBackendProvider}. */
class BackendsTest {
    private final List<String> lines = new ArrayList<>();

    @AfterEach
    void reset() {
        System.clearProperty(Backends.PROPERTY);
        System.clearProperty("receptive.threads");
        FakeBackendProvider.working = false;
        FakeBackendProvider.failure = null;
    }

    private Backend create(String choice) {
        return Backends.create(choice, BackendOptions.defaults(), lines::add);
    }

    @Test
    void everyEngineIsFoundOnTheClasspathTheCpuLast() {
        assertEquals(List.of("fake", "cpu"), Backends.providers().stream().map(BackendProvider::name).toList());
        assertTrue(Backends.provider(" FAKE").isPresent());
        BackendProvider cpu = Backends.provider("CPU").orElseThrow();
        assertEquals(0, cpu.priority());
        BackendDiagnosis d = cpu.diagnose();
        assertTrue(d.available(), d.reason());
        assertTrue(d.facts().keySet().containsAll(List.of("CPU", "CPU threads", "CPU kernels", "Java heap")),
                d.facts().toString());
    }

    @Test
    void cpuComesFromItsProviderAndNeverAsksTheOthers() {
        int before = FakeBackendProvider.CREATED.get();
        try (Backend b = create("CPU ")) {
            assertEquals("cpu", b.name());
            assertEquals("cpu", b.capabilities().engine());
        }
        assertEquals(before, FakeBackendProvider.CREATED.get());
        assertEquals(List.of(), lines);
    }

    @Test
    void theThreadOptionReachesTheCpu() {
        for (int threads : new int[] {1, 3}) {
            try (Backend b = Backends.create("cpu", BackendOptions.defaults().withThreads(threads))) {
                assertEquals(threads, b.capabilities().threads());
            }
        }
        System.setProperty("receptive.threads", "2");
        try (Backend b = Backends.create("cpu")) {
            assertEquals(2, b.capabilities().threads(), "0 threads: the backend's default");
        }
        assertThrows(IllegalArgumentException.class, () -> BackendOptions.defaults().withThreads(-1));
    }

    @Test
    void aBadThreadSettingIsShownAndRefusedWhereTheDefaultIsNeeded() {
        System.setProperty("receptive.threads", "many");
        BackendDiagnosis d = Backends.provider("cpu").orElseThrow().diagnose();
        assertTrue(d.available(), "the CPU still runs with a thread count given as an option");
        assertEquals("NOT USABLE: receptive.threads must be a whole number, got 'many'", d.facts().get("CPU threads"));
        for (String choice : new String[] {"cpu", "auto"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> create(choice), choice);
            assertEquals("receptive.threads must be a whole number, got 'many'", e.getMessage());
        }
        try (Backend b = Backends.create("cpu", BackendOptions.defaults().withThreads(2))) {
            assertEquals(2, b.capabilities().threads());
        }
    }

    @Test
    void autoTakesAWorkingProviderSilently() {
        FakeBackendProvider.working = true;
        int before = FakeBackendProvider.CREATED.get();
        try (Backend b = create(null)) {
            assertEquals(before + 1, FakeBackendProvider.CREATED.get());
            assertSame(FakeBackendProvider.CAPABILITIES, b.capabilities());
            assertEquals(FakeBackendProvider.FREE, b.freeMemory());
        }
        assertEquals(List.of(), lines);
    }

    @Test
    void autoFallsBackToTheCpuAndSaysWhyInOneLine() {
        int before = FakeBackendProvider.CREATED.get();
        try (Backend b = create("auto")) {
            assertEquals("cpu", b.capabilities().engine());
        }
        assertEquals(before, FakeBackendProvider.CREATED.get());
        assertEquals(List.of("using the CPU backend; fake is not available: no fake device"), lines);
    }

    @Test
    void autoPassesOverADeviceThatFailsToOpenButNotOverBadOptions() {
        FakeBackendProvider.working = true;
        FakeBackendProvider.failure = new IllegalStateException("device lost");
        try (Backend b = create("auto")) {
            assertEquals("cpu", b.capabilities().engine());
        }
        assertEquals(List.of("using the CPU backend; fake failed to start: device lost"), lines);
        IllegalArgumentException bad = new IllegalArgumentException("fake: no device 7");
        FakeBackendProvider.failure = bad;
        assertSame(bad, assertThrows(IllegalArgumentException.class, () -> create("auto")));
    }

    @Test
    void aNamedBackendNeverFallsBackAndGivesTheFix() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> create("fake"));
        assertEquals("backend fake: it cannot be used here: no fake device: plug one in (or choose the cpu backend)",
                e.getMessage());
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
        assertEquals("backend: unknown choice 'gpu'; use auto, cpu or fake", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Backends.resolve("cuda"));
        assertTrue(e.getMessage().contains("receptive-cuda module"), e.getMessage());
    }

    @Test
    void aLostCpuRegistrationIsNamedWithItsFix() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Backends.resolve("cpu", List.of(new FakeBackendProvider())));
        assertTrue(e.getMessage().startsWith("backend: unknown choice 'cpu'; use auto or fake (the cpu backend is not"
                + " registered") && e.getMessage().contains("ServicesResourceTransformer"), e.getMessage());
        IllegalStateException auto = assertThrows(IllegalStateException.class,
                () -> Backends.create("auto", BackendOptions.defaults(), lines::add, List.of(new FakeBackendProvider())));
        assertTrue(auto.getMessage().startsWith("backend auto: no backend can run here; fake is not available: no fake"
                + " device; the cpu backend is not registered"), auto.getMessage());
        assertEquals(List.of(), lines);
    }
}
